package io.neuronexplainer.producer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronexplainer.producer.corpus.CorpusFingerprint;
import io.neuronexplainer.producer.corpus.CorpusSource;
import io.neuronexplainer.producer.corpus.CorpusWindow;
import io.neuronexplainer.producer.corpus.Document;
import io.neuronexplainer.producer.corpus.DocumentReader;
import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.producer.model.DefaultModel;
import io.neuronexplainer.producer.model.Gpt2Model;
import io.neuronexplainer.producer.model.Gpt2Tokenizer;
import io.neuronexplainer.producer.sampling.SampleSeed;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.WindowMax;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A series on the real demo GPT-2: two checkpoints over the same corpus and settings see the same
 * corpus windows and the same random sample, so every neuron's {@code random_window_maxima} names
 * the same windows in both; another corpus samples other windows; each maximum is the window's
 * per-token maximum computed again on its own.
 */
class SeriesSampleTest {
    private static final int WINDOWS = 120;
    private static final int BATCH = 8;
    private static final int[] LAYERS = {0, 3, 5};
    private static final SamplingSettings SETTINGS = SamplingSettings.defaults();

    @TempDir
    Path temp;

    /** One checkpoint's pass over the corpus's first {@link #WINDOWS} windows: its sample and records. */
    private record Run(List<Long> sample, List<NeuronActivations> records) {}

    private static Run run(Path checkpoint, CorpusSource corpus) throws IOException {
        String fingerprint = CorpusFingerprint.of(corpus);
        try (Gpt2Model model = Gpt2Model.load(checkpoint); Gpt2Tokenizer tokenizer = Gpt2Tokenizer.forModel(checkpoint, null)) {
            CorpusPass pass = new CorpusPass(model, tokenizer, LAYERS, SETTINGS, fingerprint, BATCH);
            try (WindowCutter cutter = new WindowCutter(corpus.open(), tokenizer, SETTINGS.windowTokens(), WINDOWS)) {
                pass.run(cutter, corpus.name(), () -> {}, PassProgress.NONE);
            }
            List<NeuronActivations> records = new ArrayList<>();
            RunIdentity id = new RunIdentity("demo-gpt2", checkpoint.getFileName().toString(), corpus.name(), "run-series");
            pass.emit(id, Instant.EPOCH, records::add);
            return new Run(pass.sampleWindowIndexes(), records);
        }
    }

    private static List<CorpusWindow> windows(Path checkpoint, CorpusSource corpus) throws IOException {
        List<CorpusWindow> out = new ArrayList<>();
        try (Gpt2Tokenizer tokenizer = Gpt2Tokenizer.forModel(checkpoint, null);
             WindowCutter cutter = new WindowCutter(corpus.open(), tokenizer, SETTINGS.windowTokens(), WINDOWS)) {
            for (CorpusWindow w = cutter.next(); w != null; w = cutter.next()) {
                out.add(w);
            }
        }
        return out;
    }

    private static List<Long> indexes(NeuronActivations r) {
        return r.getRandomWindowMaxima().stream().map(WindowMax::getWindowIndex).toList();
    }

    @Test
    void everyCheckpointOfASeriesIsMeasuredOnTheSameWindows() throws IOException {
        Path last = DefaultModel.folder();
        Path early = last.resolveSibling("step-000300");
        CorpusSource corpus = CorpusSource.of(null);

        // The corpus windows: cut from the text by the tokenizer alone, so the same for every checkpoint.
        List<CorpusWindow> cutEarly = windows(early, corpus);
        List<CorpusWindow> cutLast = windows(last, corpus);
        assertEquals(WINDOWS, cutLast.size());
        assertEquals(cutEarly.size(), cutLast.size());
        for (int i = 0; i < cutLast.size(); i++) {
            assertEquals(i, cutLast.get(i).index());
            assertEquals(cutEarly.get(i).index(), cutLast.get(i).index());
            assertArrayEquals(cutEarly.get(i).ids(), cutLast.get(i).ids(), "window " + i + " is the same text");
        }

        Run a = run(early, corpus);
        Run b = run(last, corpus);
        assertTrue(SETTINGS.reservoirSize() >= 50, "a drift sample of at least 50 windows by default");
        assertEquals(SETTINGS.reservoirSize(), a.sample().size(), "the corpus has more windows than the sample");
        assertEquals(a.sample(), b.sample(), "the same random sample, in the same order, for both checkpoints");
        assertEquals(a.records().size(), b.records().size());
        boolean anyDifferent = false;
        for (int i = 0; i < a.records().size(); i++) {
            NeuronActivations ra = a.records().get(i);
            NeuronActivations rb = b.records().get(i);
            assertEquals(ra.getNeuron().getLayer(), rb.getNeuron().getLayer());
            assertEquals(ra.getNeuron().getNeuron(), rb.getNeuron().getNeuron());
            assertEquals(a.sample(), indexes(ra), ra.getNeuron() + ": one max per sampled window, in sample order");
            assertEquals(indexes(ra), indexes(rb), ra.getNeuron() + ": the same windows at both checkpoints");
            anyDifferent |= !ra.getRandomWindowMaxima().equals(rb.getRandomWindowMaxima());
        }
        assertTrue(anyDifferent, "two checkpoints are two models: their maxima differ somewhere");

        // Each max is the window's per-token max, recomputed here window by window, layer by layer.
        Map<Integer, Integer> positions = Map.of(0, 0, 3, 1, 5, 2);
        int neurons = a.records().size() / LAYERS.length;
        int[][] chosen = {{0, 0}, {3, 100}, {5, neurons - 1}, {5, 257}};
        try (Gpt2Model model = Gpt2Model.load(last)) {
            for (int[] ln : chosen) {
                int layer = ln[0];
                int neuron = ln[1];
                NeuronActivations r = b.records().get(positions.get(layer) * neurons + neuron);
                assertEquals(layer, r.getNeuron().getLayer());
                assertEquals(neuron, r.getNeuron().getNeuron());
                for (WindowMax m : r.getRandomWindowMaxima()) {
                    int[] ids = cutLast.get((int) m.getWindowIndex()).ids();
                    float[] acts = model.mlpActivations(new int[][] {ids}, new int[] {layer})[0];
                    float max = Float.NEGATIVE_INFINITY;
                    for (int t = 0; t < ids.length; t++) {
                        max = Math.max(max, acts[t * neurons + neuron]);
                    }
                    assertEquals(max, m.getMaxActivation(), 1e-5, "layer " + layer + " neuron " + neuron + " window "
                            + m.getWindowIndex());
                }
            }
        }

        // Another corpus (the same documents in another order) is another series: another sample.
        Path other = temp.resolve("reversed.jsonl");
        writeReversed(corpus, other);
        CorpusSource otherCorpus = CorpusSource.of(other);
        assertNotEquals(SampleSeed.of(CorpusFingerprint.of(corpus), SETTINGS.seed()),
                SampleSeed.of(CorpusFingerprint.of(otherCorpus), SETTINGS.seed()));
        Run c = run(last, otherCorpus);
        assertEquals(SETTINGS.reservoirSize(), c.sample().size());
        assertNotEquals(a.sample(), c.sample(), "another corpus samples other windows");
        assertEquals(c.sample(), indexes(c.records().get(0)));
    }

    private static void writeReversed(CorpusSource corpus, Path file) throws IOException {
        List<String> texts = new ArrayList<>();
        try (DocumentReader reader = corpus.open()) {
            for (Document d = reader.next(); d != null && texts.size() < 300; d = reader.next()) {
                texts.add(d.text());
            }
        }
        Collections.reverse(texts);
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (String t : texts) {
            lines.add(json.writeValueAsString(Map.of("text", t)));
        }
        Files.write(file, lines);
    }
}
