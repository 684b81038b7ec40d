package io.neuronexplainer.producer.model;

import static io.neuronexplainer.producer.model.SafetensorsFileTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading GPT-2 folders: both naming schemes, buffers, dtypes, and one-line errors for bad folders. */
class Gpt2CheckpointTest {
    private static final Gpt2Config TINY = new Gpt2Config(2, 2, 8, 16, 8, 11, 1e-5, true, false);
    private static final int[][] WINDOWS = {{1, 5, 2, 10, 0}, {3, 3, 7, 9, 4}};

    @TempDir
    Path dir;

    @Test
    void bf16WithoutPrefixAndWithMaskBuffersLoadsLikeF32WithPrefix() throws IOException {
        Map<String, float[]> weights = tinyWeights(42);
        Path f32 = writeModel("f32", TINY, weights, "F32", "transformer.", false);
        Path bf16 = writeModel("bf16", TINY, weights, "BF16", "", true);
        try (Gpt2Model a = Gpt2Model.load(f32); Gpt2Model b = Gpt2Model.load(bf16)) {
            assertEquals(16, a.neuronsPerLayer());
            Gpt2Model.Outputs x = a.forward(WINDOWS, new int[] {0, 1}, true);
            Gpt2Model.Outputs y = b.forward(WINDOWS, new int[] {0, 1}, true);
            assertArrayEquals(x.mlp()[0], y.mlp()[0]);
            assertArrayEquals(x.mlp()[1], y.mlp()[1]);
            assertArrayEquals(x.finalHidden(), y.finalHidden());
            assertFalse(Arrays.equals(x.mlp()[0], x.mlp()[1]), "layers differ");
        }
        // Other weights, other activations: the comparison above is not vacuous.
        Path other = writeModel("other", TINY, tinyWeights(43), "F32", "", false);
        try (Gpt2Model a = Gpt2Model.load(f32); Gpt2Model c = Gpt2Model.load(other)) {
            assertFalse(Arrays.equals(a.mlpActivations(WINDOWS, new int[] {1})[0], c.mlpActivations(WINDOWS, new int[] {1})[0]));
        }
    }

    @Test
    void missingModelFileIsOneLineNamingIt() throws IOException {
        Path folder = writeModel("m", TINY, tinyWeights(1), "F32", "", false);
        Files.delete(folder.resolve("model.safetensors"));
        assertOneLine(folder.resolve("model.safetensors"), "file not found", () -> Gpt2Model.load(folder));
        assertOneLine(dir.resolve("nowhere"), "model folder not found", () -> Gpt2Model.load(dir.resolve("nowhere")));
    }

    @Test
    void corruptModelFileIsOneLineNamingIt() throws IOException {
        Path folder = writeModel("c", TINY, tinyWeights(1), "F32", "", false);
        Path file = folder.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));
        assertOneLine(file, "truncated", () -> Gpt2Model.load(folder));
        Files.write(file, "this is not a safetensors file at all".getBytes());
        assertOneLine(file, "corrupt safetensors header", () -> Gpt2Model.load(folder));
    }

    @Test
    void configThatDisagreesWithTheTensorsIsOneLineNamingTensorAndShapes() throws IOException {
        Path folder = writeModel("d", TINY, tinyWeights(1), "F32", "transformer.", false);
        writeConfig(folder, new Gpt2Config(2, 2, 8, 32, 8, 11, 1e-5, true, false));
        assertOneLine(folder.resolve("model.safetensors"),
                "tensor transformer.h.0.mlp.c_fc.weight has shape [8, 16] but config.json", () -> Gpt2Model.load(folder));
        assertOneLine(folder.resolve("model.safetensors"), "needs [8, 32]", () -> Gpt2Model.load(folder));
        writeConfig(folder, new Gpt2Config(3, 2, 8, 16, 8, 11, 1e-5, true, false));
        assertOneLine(folder.resolve("model.safetensors"), "missing tensor h.2.ln_1.weight [8]", () -> Gpt2Model.load(folder));
        writeConfig(folder, new Gpt2Config(1, 2, 8, 16, 8, 11, 1e-5, true, false));
        assertOneLine(folder.resolve("model.safetensors"), "unexpected tensor transformer.h.1", () -> Gpt2Model.load(folder));
        Files.writeString(folder.resolve("config.json"), "{\"n_layer\": 2, \"activation_function\": \"relu\"}");
        assertOneLine(folder.resolve("config.json"), "only gelu_new", () -> Gpt2Model.load(folder));
    }

    @Test
    void missingTensorIsOneLineNamingIt() throws IOException {
        Map<String, float[]> weights = tinyWeights(1);
        weights.remove("h.1.attn.c_proj.bias");
        Path folder = writeModel("t", TINY, weights, "F32", "", false);
        assertOneLine(folder.resolve("model.safetensors"), "missing tensor h.1.attn.c_proj.bias", () -> Gpt2Model.load(folder));
    }

    /** Random weights rounded to BF16, so F32 and BF16 files hold the same values. */
    static Map<String, float[]> tinyWeights(long seed) {
        Random random = new Random(seed);
        Map<String, float[]> weights = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : Gpt2Checkpoint.expectedShapes(TINY).entrySet()) {
            float[] v = new float[(int) Arrays.stream(e.getValue()).reduce(1, (x, y) -> x * y)];
            boolean norm = e.getKey().contains("ln_") && e.getKey().endsWith("weight");
            for (int i = 0; i < v.length; i++) {
                float f = (float) ((norm ? 1 : 0) + random.nextGaussian() * 0.3);
                v[i] = Float.intBitsToFloat(Float.floatToRawIntBits(f) & 0xFFFF0000);
            }
            weights.put(e.getKey(), v);
        }
        return weights;
    }

    private Path writeModel(String name, Gpt2Config config, Map<String, float[]> weights, String dtype, String prefix,
                            boolean buffers) throws IOException {
        Path folder = Files.createDirectories(dir.resolve(name));
        writeConfig(folder, config);
        Map<String, long[]> shapes = Gpt2Checkpoint.expectedShapes(config);
        SafetensorsWriter writer = new SafetensorsWriter();
        for (Map.Entry<String, float[]> e : weights.entrySet()) {
            writer.floats(prefix + e.getKey(), dtype, shapes.get(e.getKey()), e.getValue());
        }
        if (buffers) {
            // The official hub checkpoints carry these causal-mask buffers; they are not weights.
            for (int i = 0; i < config.layers(); i++) {
                int p = config.positions();
                writer.raw(prefix + "h." + i + ".attn.bias", "U8", new long[] {1, 1, p, p}, new byte[p * p]);
                writer.floats(prefix + "h." + i + ".attn.masked_bias", "F32", new long[] {}, new float[] {-1e4f});
            }
        }
        writer.write(folder.resolve("model.safetensors"));
        return folder;
    }

    private static void writeConfig(Path folder, Gpt2Config c) throws IOException {
        Files.writeString(folder.resolve("config.json"), String.format(
                "{\"activation_function\": \"gelu_new\", \"n_layer\": %d, \"n_head\": %d, \"n_embd\": %d, \"n_inner\": %d,"
                        + " \"n_positions\": %d, \"vocab_size\": %d, \"layer_norm_epsilon\": 1e-05}",
                c.layers(), c.heads(), c.embedding(), c.inner(), c.positions(), c.vocabSize()));
    }
}
