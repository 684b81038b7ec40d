package io.neuronexplainer.producer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The forward pass against HuggingFace transformers' own activations for the demo model. */
class Gpt2ModelReferenceTest {
    private static final double TOLERANCE = 1e-4;
    private static Gpt2Model model;
    private static Gpt2Tokenizer tokenizer;
    private static SafetensorsFile reference;
    private static List<String> texts;

    @BeforeAll
    static void load() throws Exception {
        model = Gpt2Model.load(DemoModel.finalCheckpoint());
        tokenizer = Gpt2Tokenizer.forModel(DemoModel.finalCheckpoint(), null);
        reference = SafetensorsFile.open(DemoModel.referenceActivations());
        texts = new ObjectMapper().readValue(reference.metadata().get("texts"), new TypeReference<List<String>>() {});
    }

    @AfterAll
    static void close() {
        model.close();
        tokenizer.close();
        reference.close();
    }

    @Test
    void tokenIdsMatchHuggingFace() {
        assertEquals(4, texts.size());
        assertEquals(tokenizer.file(), DemoModel.tokenizerFile(), "found through the checkpoint's parent folder");
        for (int k = 0; k < texts.size(); k++) {
            int[] expected = Arrays.stream(reference.longs("ids." + k)).mapToInt(Math::toIntExact).toArray();
            assertArrayEquals(expected, tokenizer.encode(texts.get(k)), "ids of text " + k);
        }
    }

    @Test
    void activationsAndFinalHiddenStateMatchHuggingFaceOnEveryLayer() {
        int layers = model.layers();
        int[] all = java.util.stream.IntStream.range(0, layers).toArray();
        for (int k = 0; k < texts.size(); k++) {
            int[] ids = tokenizer.encode(texts.get(k));
            Gpt2Model.Outputs out = model.forward(new int[][] {ids}, all, true);
            float[] expected = reference.floats("mlp_act." + k);
            int perLayer = ids.length * model.neuronsPerLayer();
            assertEquals(layers * perLayer, expected.length);
            for (int layer = 0; layer < layers; layer++) {
                float[] want = Arrays.copyOfRange(expected, layer * perLayer, (layer + 1) * perLayer);
                assertClose(want, out.mlp()[layer], "text " + k + " layer " + layer);
            }
            assertClose(reference.floats("last_hidden." + k), out.finalHidden(), "text " + k + " final hidden state");
        }
    }

    @Test
    void batchedWindowsAndEarlyStopGiveTheSameActivations() {
        int[] a = Arrays.copyOf(tokenizer.encode(texts.get(2)), 12);
        int[] b = Arrays.copyOf(tokenizer.encode(texts.get(3)), 12);
        float[][] batched = model.mlpActivations(new int[][] {a, b}, new int[] {4, 1});
        float[][] alone = model.forward(new int[][] {b}, new int[] {0, 1, 2, 3, 4, 5}, true).mlp();
        int perWindow = 12 * model.neuronsPerLayer();
        assertClose(alone[1], Arrays.copyOfRange(batched[1], perWindow, 2 * perWindow), "layer 1, second window of a batch");
        assertClose(alone[4], Arrays.copyOfRange(batched[0], perWindow, 2 * perWindow), "layer 4, second window of a batch");
        float[][] into = {new float[2 * perWindow], new float[7]};
        float[] reused = into[0];
        float[][] again = model.mlpActivations(new int[][] {a, b}, new int[] {4, 1}, into);
        assertTrue(again[0] == reused, "an array of the right size is reused");
        assertArrayEquals(batched[0], again[0]);
        assertArrayEquals(batched[1], again[1]);
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            if (!(diff <= worst)) {
                worst = diff;
                at = i;
            }
        }
        final double w = worst;
        final int where = at;
        assertTrue(worst <= TOLERANCE, () -> what + ": max |diff| " + w + " at " + where);
    }
}
