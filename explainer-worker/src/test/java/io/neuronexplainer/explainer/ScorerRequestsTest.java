package io.neuronexplainer.explainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.schemas.ActivatingTokens;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronStats;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.WindowKind;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** What the detection and fuzzing requests hold: the right windows, seeded order, true and decoy markings. */
class ScorerRequestsTest {
    static final String ID = "expl-1";

    /** Six scoring top windows of 8 tokens (peaks at positions 2 and 5) and four random ones, two of them quiet. */
    static NeuronActivations neuron() {
        List<ActivationWindow> top = new ArrayList<>();
        for (int w = 0; w < 6; w++) {
            List<Float> a = new ArrayList<>(List.of(0.1f, 0.2f, 4f, 0.3f, 0.1f, 2.5f, 2f, 1.9f));
            top.add(window(100 + w, WindowKind.TOP, a));
        }
        List<ActivationWindow> random = List.of(
                window(500, WindowKind.RANDOM, List.of(0.1f, 0.2f, 0.3f, 0f, 0f, 0f, 0f, 0f)),    // quiet (< 0.4)
                window(501, WindowKind.RANDOM, List.of(0.1f, 1.2f, 0.3f, 0f, 0f, 0f, 0f, 0f)),    // not quiet
                window(502, WindowKind.RANDOM, List.of(0.39f, 0.2f, 0.3f, 0f, 0f, 0f, 0f, 0f)),   // quiet
                window(503, WindowKind.RANDOM, List.of(0.4f, 0.2f, 0.3f, 0f, 0f, 0f, 0f, 0f)));   // at the threshold: not quiet
        NeuronActivations base = SampleRecords.activations(SampleRecords.key(1, 2));
        return NeuronActivations.newBuilder(base).setScoringTopWindows(top).setScoringRandomWindows(random)
                .setStats(new NeuronStats(4f, 0.1, 1000L, 8000L)).build();
    }

    static ActivationWindow window(long index, WindowKind kind, List<Float> activations) {
        List<String> tokens = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < activations.size(); i++) {
            tokens.add(" t" + index + "_" + i);
            ids.add(i);
        }
        float max = (float) activations.stream().mapToDouble(Float::doubleValue).max().orElse(0);
        return new ActivationWindow(index, kind, tokens, ids, activations, max);
    }

    @Test
    void detectionShowsEveryTopWindowAndOnlyTheQuietRandomOnesShuffledWithoutActivations() {
        NeuronActivations neuron = neuron();
        SimulationRequest r = DetectionRequest.of(neuron, ID, " cats", 12, "m/v");
        assertEquals("detection", r.getScorerKind());
        assertTrue(r.getWindows().isEmpty(), "no simulation windows");
        Set<Long> shown = r.getExcerpts().stream().map(Excerpt::getWindowIndex).collect(Collectors.toSet());
        assertEquals(Set.of(100L, 101L, 102L, 103L, 104L, 105L, 500L, 502L), shown);
        r.getExcerpts().forEach(e -> assertTrue(e.getMarked().isEmpty()));
        List<Long> order = r.getExcerpts().stream().map(Excerpt::getWindowIndex).toList();
        assertNotEquals(List.of(100L, 101L, 102L, 103L, 104L, 105L, 500L, 502L), order, "shuffled");
        // Seeded by the explanation: the same request again, another order for another explanation.
        assertEquals(r, DetectionRequest.of(neuron, ID, " cats", 12, "m/v"));
        assertNotEquals(order, DetectionRequest.of(neuron, "expl-2", " cats", 12, "m/v").getExcerpts().stream()
                .map(Excerpt::getWindowIndex).toList());
        assertEquals(12, r.getExplainerPromptTokens());
        assertEquals("m/v", r.getExplainerMethod());
        assertEquals(neuron.getRun().getRunId(), r.getRunId());
    }

    @Test
    void fuzzingMarksTheActivatingTokensInHalfTheTopWindowsAndAsManyOthersInTheRest() {
        NeuronActivations neuron = neuron();
        SimulationRequest r = FuzzingRequest.of(neuron, ID, " cats", 0, "m/v");
        assertEquals("fuzzing", r.getScorerKind());
        assertEquals(6, r.getExcerpts().size());
        Map<Long, ActivationWindow> windows = neuron.getScoringTopWindows().stream()
                .collect(Collectors.toMap(ActivationWindow::getWindowIndex, Function.identity()));
        int trueMarks = 0;
        for (Excerpt e : r.getExcerpts()) {
            List<Integer> activating = ActivatingTokens.positions(windows.get(e.getWindowIndex()).getActivations());
            assertEquals(List.of(2, 5, 6), activating, "4, 2.5 and 2 reach half of 4; 1.9 does not");
            assertEquals(activating.size(), e.getMarked().size());
            if (e.getMarked().equals(activating)) {
                trueMarks++;
            } else {
                Set<Integer> overlap = new HashSet<>(e.getMarked());
                overlap.retainAll(activating);
                assertTrue(overlap.isEmpty(), "a decoy marks no activating token: " + e.getMarked());
                assertEquals(e.getMarked().stream().sorted().toList(), e.getMarked(), "ascending");
            }
        }
        assertEquals(3, trueMarks);
        assertEquals(r, FuzzingRequest.of(neuron, ID, " cats", 0, "m/v"), "seeded by the explanation");
    }

    @Test
    void scorersAreParsedInTheirOwnOrderAndUnknownOnesNamed() {
        assertEquals(List.of("simulation", "detection", "fuzzing"), Scorers.parse("fuzzing, detection,simulation,detection").kinds());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Scorers.parse("simulation,guessing"));
        assertEquals("--scorers takes simulation, detection, fuzzing (comma-separated), got 'guessing'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Scorers.parse(" , "));
    }

    @Test
    void theWorkerSendsOneRequestPerScorerKind() {
        NeuronActivations neuron = neuron();
        var outputs = ExplainerWorker.outputs(neuron, new ExplainerResult(" cats", "test-v1", 5, 1),
                new TestExplainer(0, Set.of()), Scorers.parse("simulation,detection,fuzzing"));
        List<String> kinds = outputs.stream().map(o -> o.value()).filter(v -> v instanceof SimulationRequest)
                .map(v -> ((SimulationRequest) v).getScorerKind()).toList();
        assertEquals(List.of("simulation", "detection", "fuzzing"), kinds);
    }
}
