package io.neuronexplainer.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.producer.sampling.SplitPlan;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.WindowKind;
import io.neuronexplainer.schemas.WindowMax;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A whole pass with the synthetic model, checked against a brute-force ranking of every window. */
class CorpusPassTest {
    static final RunIdentity RUN = new RunIdentity("synthetic", "final", "generated", "run-1");

    /** Every window of the generated corpus, cut independently of the code under test. */
    static List<CorpusWindow> allWindows(int documents, long seed) throws IOException {
        List<CorpusWindow> all = new ArrayList<>();
        try (WindowCutter cutter = new WindowCutter(TestCorpus.documents(documents, seed), new CharTokenizer(), 64, 0)) {
            CorpusWindow w;
            while ((w = cutter.next()) != null) {
                all.add(w);
            }
        }
        return all;
    }

    static float windowMax(int layer, int neuron, int[] ids) {
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < ids.length; t++) {
            max = Math.max(max, SyntheticModel.activation(layer, neuron, ids[t], t == 0 ? -1 : ids[t - 1]));
        }
        return max;
    }

    @Test
    void recordsMatchABruteForceRankingAndSplitsAreDisjoint() throws IOException {
        int[] layers = {2, 0};
        int neurons = 24;
        SamplingSettings settings = new SamplingSettings(64, 20, 5, 5, 5, SamplingSettings.DRIFT_WINDOWS, 7L);
        SyntheticModel model = new SyntheticModel(3, neurons);
        CorpusPass pass = new CorpusPass(model, new CharTokenizer(), layers, settings, TestCorpus.FINGERPRINT, 5);
        boolean[] started = {false};
        PassResult result;
        try (WindowCutter cutter = new WindowCutter(TestCorpus.documents(120, 3), new CharTokenizer(), 64, 0)) {
            result = pass.run(cutter, "generated", () -> started[0] = true, PassProgress.NONE);
        }
        assertTrue(started[0]);
        List<CorpusWindow> windows = allWindows(120, 3);
        assertEquals(windows.size(), result.windows());
        assertTrue(windows.size() > 60, "enough windows for a real ranking: " + windows.size());

        List<NeuronActivations> records = new ArrayList<>();
        int callsInPass = model.calls();
        assertEquals(layers.length * neurons, pass.emit(RUN, Instant.now(), records::add));
        assertEquals(layers.length * neurons, records.size());
        // The pass kept the sample's maxima and its first windows' values (checked true below).
        assertEquals(callsInPass, model.calls(), "the emission runs the model over no window again");
        for (int i = 0; i < records.size(); i++) {
            NeuronActivations r = records.get(i);
            int layer = r.getNeuron().getLayer();
            int neuron = r.getNeuron().getNeuron();
            assertEquals(layers[i / neurons], layer);
            assertEquals(i % neurons, neuron);

            // Brute force: rank every window by the neuron's max, ties to the lower index.
            List<CorpusWindow> ranked = new ArrayList<>(windows);
            ranked.sort(Comparator.comparing((CorpusWindow w) -> windowMax(layer, neuron, w.ids()), Comparator.reverseOrder())
                    .thenComparingLong(CorpusWindow::index));
            SplitPlan plan = SplitPlan.of(20, 5, 5);
            assertEquals(indices(plan.explanationRanks(), ranked), windowIndices(r.getExplanationWindows()));
            assertEquals(indices(plan.scoringRanks(), ranked), windowIndices(r.getScoringTopWindows()));

            Set<Long> used = new HashSet<>(windowIndices(r.getExplanationWindows()));
            used.addAll(windowIndices(r.getScoringTopWindows()));
            assertEquals(10, used.size(), "explanation and scoring top windows are disjoint");
            assertEquals(5, r.getScoringRandomWindows().size());
            for (ActivationWindow w : r.getScoringRandomWindows()) {
                assertFalse(used.contains(w.getWindowIndex()), "random windows avoid the neuron's top windows");
                assertEquals(WindowKind.RANDOM, w.getKind());
            }
            for (ActivationWindow w : all(r)) {
                assertWindowIsTrue(layer, neuron, w, windows);
            }
            assertEquals(windowMax(layer, neuron, ranked.get(0).ids()), r.getStats().getMaxActivation());
            assertEquals(windows.size(), r.getStats().getWindowsSeen());
            assertEquals(windows.size() * 64L, r.getStats().getTokensSeen());
        }
        // One random sample shared by all neurons: R plus the spares for skipping a neuron's top windows.
        Set<Long> randomUnion = new HashSet<>();
        records.forEach(r -> randomUnion.addAll(windowIndices(r.getScoringRandomWindows())));
        assertTrue(randomUnion.size() >= 5 && randomUnion.size() <= settings.scoringSampleSize(), "shared: " + randomUnion);
        assertEquals(7L, records.get(0).getRun().getSeed());

        // The drift sample: 50 windows, the same for every neuron, each neuron's max on each one
        // as the brute force computes it; the scored random windows are among its first 15.
        List<Long> sample = pass.sampleWindowIndexes();
        assertEquals(SamplingSettings.DRIFT_WINDOWS, sample.size());
        assertEquals(sample.size(), new HashSet<>(sample).size(), "distinct windows");
        assertTrue(sample.subList(0, settings.scoringSampleSize()).containsAll(randomUnion));
        for (NeuronActivations r : records) {
            int layer = r.getNeuron().getLayer();
            int neuron = r.getNeuron().getNeuron();
            assertEquals(sample, r.getRandomWindowMaxima().stream().map(WindowMax::getWindowIndex).toList());
            for (WindowMax m : r.getRandomWindowMaxima()) {
                assertEquals(windowMax(layer, neuron, windows.get((int) m.getWindowIndex()).ids()), m.getMaxActivation(),
                        "layer " + layer + " neuron " + neuron + " window " + m.getWindowIndex());
            }
        }
    }

    /** A finished pass of 2 x 300 neurons: more records than the building threads keep in flight. */
    private static CorpusPass passOver600Neurons() throws IOException {
        CorpusPass pass = new CorpusPass(new SyntheticModel(2, 300), new CharTokenizer(), new int[] {0, 1},
                SamplingSettings.defaults(), TestCorpus.FINGERPRINT, 8);
        try (WindowCutter cutter = new WindowCutter(TestCorpus.documents(40, 9), new CharTokenizer(), 64, 0)) {
            pass.run(cutter, "generated", () -> {}, PassProgress.NONE);
        }
        return pass;
    }

    @Test
    void recordsBuiltOnSeveralThreadsComeOutAsOnOne() throws IOException {
        // The in-order hand-over exercised, with a third of the neurons filtered out.
        CorpusPass pass = passOver600Neurons();
        Instant at = Instant.ofEpochMilli(1_000);
        List<NeuronActivations> one = new ArrayList<>();
        pass.emit(RUN, at, one::add);
        List<String> several = new ArrayList<>();
        long emitted = pass.emit(RUN, at, 3, (layer, neuron) -> neuron % 3 != 1, NeuronActivations::toString, several::add);
        List<String> expected = one.stream().filter(r -> r.getNeuron().getNeuron() % 3 != 1).map(NeuronActivations::toString)
                .toList();
        assertEquals(400, expected.size());
        assertEquals(expected, several);
        assertEquals(400, emitted);
    }

    @Test
    void aRecordFailingOnABuildingThreadStopsTheEmissionWithItsErrorAndNothingAfterIt() throws IOException {
        CorpusPass pass = passOver600Neurons();
        List<String> sunk = new ArrayList<>();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> pass.emit(RUN, Instant.now(), 2,
                (layer, neuron) -> true, r -> {
                    if (r.getNeuron().getLayer() == 1 && r.getNeuron().getNeuron() == 50) {
                        throw new IllegalStateException("cannot encode layer 1 neuron 50");
                    }
                    return r.getNeuron().getLayer() + ":" + r.getNeuron().getNeuron();
                }, sunk::add));
        assertEquals("cannot encode layer 1 neuron 50", e.getMessage());
        // In order up to the failing record, which is the 351st; nothing from it on.
        assertTrue(sunk.size() <= 350, "records after the failure reached the sink: " + sunk.size());
        for (int i = 0; i < sunk.size(); i++) {
            assertEquals((i / 300) + ":" + (i % 300), sunk.get(i));
        }
        // The pool has terminated when emit returns; its threads may take a moment more to end.
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("emit-records"))
                && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("emit-records")),
                "the building threads have stopped");
    }

    @Test
    void smallCorpusKeepsEveryWindowAndStillSplitsDisjointly() throws IOException {
        SyntheticModel model = new SyntheticModel(1, 4);
        CorpusPass pass = new CorpusPass(model, new CharTokenizer(), new int[] {0}, SamplingSettings.defaults(), TestCorpus.FINGERPRINT, 16);
        try (WindowCutter cutter = new WindowCutter(TestCorpus.documents(2, 5), new CharTokenizer(), 64, 0)) {
            pass.run(cutter, "small", () -> {}, PassProgress.NONE);
        }
        int windows = allWindows(2, 5).size();
        assertTrue(windows > 0 && windows < 20, "fewer windows than K: " + windows);
        List<NeuronActivations> records = new ArrayList<>();
        pass.emit(RUN, Instant.now(), records::add);
        for (NeuronActivations r : records) {
            Set<Long> top = new HashSet<>(windowIndices(r.getExplanationWindows()));
            top.addAll(windowIndices(r.getScoringTopWindows()));
            assertEquals(Math.min(windows, 10), top.size());
            assertEquals(Math.min(5, windows - top.size()), r.getScoringRandomWindows().size());
            assertEquals(windows, r.getRandomWindowMaxima().size(), "a corpus smaller than the sample: every window");
        }
    }

    @Test
    void emptyCorpusIsAnErrorBeforeTheRunStarts() throws IOException {
        CorpusPass pass = new CorpusPass(new SyntheticModel(1, 4), new CharTokenizer(), new int[] {0},
                SamplingSettings.defaults(), TestCorpus.FINGERPRINT, 4);
        boolean[] started = {false};
        try (WindowCutter cutter = new WindowCutter(TestCorpus.documents(0, 1), new CharTokenizer(), 64, 0)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> pass.run(cutter, "nothing.jsonl", () -> started[0] = true, PassProgress.NONE));
            assertEquals("corpus nothing.jsonl: empty, no window of 64 tokens (0 documents read, none that long)",
                    e.getMessage());
        }
        assertFalse(started[0]);
    }

    @Test
    void refusesLayersTheModelDoesNotHave() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CorpusPass(
                new SyntheticModel(6, 4), new CharTokenizer(), new int[] {0, 6}, SamplingSettings.defaults(), TestCorpus.FINGERPRINT, 4));
        assertEquals("--layers 6: the model has 6 layers (0-5)", e.getMessage());
    }

    private static void assertWindowIsTrue(int layer, int neuron, ActivationWindow w, List<CorpusWindow> windows) {
        int[] ids = windows.get((int) w.getWindowIndex()).ids();
        assertEquals(64, w.getTokens().size());
        assertEquals(64, w.getTokenIds().size());
        assertEquals(64, w.getActivations().size());
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < 64; t++) {
            assertEquals(ids[t], w.getTokenIds().get(t));
            assertEquals(new String(Character.toChars(ids[t])), w.getTokens().get(t));
            float expected = SyntheticModel.activation(layer, neuron, ids[t], t == 0 ? -1 : ids[t - 1]);
            assertEquals(expected, w.getActivations().get(t), "layer " + layer + " neuron " + neuron + " token " + t);
            max = Math.max(max, expected);
        }
        assertEquals(max, w.getMaxActivation());
    }

    static List<ActivationWindow> all(NeuronActivations r) {
        List<ActivationWindow> all = new ArrayList<>(r.getExplanationWindows());
        all.addAll(r.getScoringTopWindows());
        all.addAll(r.getScoringRandomWindows());
        return all;
    }

    static List<Long> windowIndices(List<ActivationWindow> windows) {
        return windows.stream().map(ActivationWindow::getWindowIndex).toList();
    }

    private static List<Long> indices(int[] ranks, List<CorpusWindow> ranked) {
        List<Long> out = new ArrayList<>();
        for (int rank : ranks) {
            out.add(ranked.get(rank).index());
        }
        return out;
    }
}
