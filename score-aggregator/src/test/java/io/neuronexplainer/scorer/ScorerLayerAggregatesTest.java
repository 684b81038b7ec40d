package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Per-layer figures of every scorer kind: which score of a neuron counts, and the statistics over them. */
class ScorerLayerAggregatesTest {
    private static final double EPS = 1e-12;
    private static final String SIM = Identities.SIMULATION_SCORER;
    private static final String DET = Identities.DETECTION_SCORER;
    private static final String FUZ = Identities.FUZZING_SCORER;

    static NeuronScore score(int layer, int neuron, String explanation, String kind, String method, double figure,
                             int promptTokens, String carriedFrom) {
        NeuronKey key = Fixtures.key(layer, neuron);
        boolean judged = !kind.equals(SIM);
        return NeuronScore.newBuilder().setNeuron(key).setExplanationId(explanation).setExplanationText("t")
                .setSimulatorMethod(method).setCorrelation(judged ? 0 : figure).setTopCorrelation(0).setRandomCorrelation(0)
                .setRsquared(0).setAbsoluteDevExplained(0).setTopWindows(1).setRandomWindows(1).setTokens(3)
                .setScoredAt(Instant.EPOCH).setRunId("run-1").setScorerKind(kind).setCarriedFrom(carriedFrom)
                .setBalancedAccuracy(judged ? figure : null).setSimulationPromptTokens(promptTokens)
                .setScoreId(Identities.scoreId(key, "run-1", explanation, kind, method, carriedFrom)).build();
    }

    @Test
    void eachNeuronCountsItsBestExplanationsScoreOfEveryKindElseItsHighest() {
        List<NeuronScore> scores = new ArrayList<>(List.of(
                // Neuron 0: best explanation e1; its detection counts though e2's is higher; only e2 was fuzzed.
                score(2, 0, "e1", SIM, "sim", 0.6, 1000, null),
                score(2, 0, "e2", SIM, "sim", 0.3, 900, null),
                score(2, 0, "e1", DET, "judge", 0.7, 100, null),
                score(2, 0, "e2", DET, "judge", 0.9, 120, null),
                score(2, 0, "e2", FUZ, "judge", 0.8, 50, null),
                // Neuron 1: two judges detected its best explanation: the higher counts.
                score(2, 1, "e1", SIM, "sim", 0.2, 3000, null),
                score(2, 1, "e1", DET, "judge", 0.5, 200, null),
                score(2, 1, "e1", DET, "judge-2", 0.55, 210, null),
                // Neuron 2: no simulation of its own (a carried one only, left out): its highest detection.
                score(2, 2, "e3", DET, "judge", 0.4, 80, null),
                score(2, 2, "e4", DET, "judge", 0.6, 90, null),
                score(2, 2, "e0", SIM, "sim", 0.99, 700, "step-0"),
                // Another layer.
                score(3, 0, "e1", SIM, "sim", 0.5, 10, null)));
        Collections.shuffle(scores, new Random(1)); // the store's order must not matter
        List<ScorerLayerAggregate> out = ScorerLayerAggregates.of(scores);

        assertEquals(List.of("2/simulation", "2/detection", "2/fuzzing", "3/simulation"),
                out.stream().map(a -> a.layer() + "/" + a.scorerKind()).toList());
        ScorerLayerAggregate sim = out.get(0);
        assertEquals("correlation", sim.figure());
        assertEquals(2, sim.count());
        assertEquals(0.4, sim.mean(), EPS);
        assertEquals(0.2 + 0.1 * 0.4, sim.p10(), EPS);
        assertEquals(0.4, sim.p50(), EPS);
        assertEquals(0.2 + 0.9 * 0.4, sim.p90(), EPS);
        assertEquals(2000, sim.meanScorerPromptTokens(), EPS);

        ScorerLayerAggregate det = out.get(1);
        assertEquals("balanced_accuracy", det.figure());
        assertEquals(3, det.count());
        assertEquals((0.7 + 0.55 + 0.6) / 3, det.mean(), EPS);
        assertEquals(0.55 + 0.2 * 0.05, det.p10(), 1e-9);
        assertEquals(0.6, det.p50(), EPS);
        assertEquals(0.6 + 0.8 * 0.1, det.p90(), 1e-9);
        assertEquals((100 + 210 + 90) / 3.0, det.meanScorerPromptTokens(), EPS);
        assertEquals(Fixtures.key(2, 0).getModel(), det.model());
        assertEquals(Fixtures.key(2, 0).getCheckpoint(), det.checkpoint());

        ScorerLayerAggregate fuz = out.get(2);
        assertEquals(1, fuz.count());
        assertEquals(0.8, fuz.mean(), EPS);
        assertEquals(0.8, fuz.p10(), EPS);
        assertEquals(0.8, fuz.p90(), EPS);
        assertEquals(50, fuz.meanScorerPromptTokens(), EPS);

        assertEquals(1, out.get(3).count());
    }

    @Test
    void quantilesInterpolateBetweenRanks() {
        Random rnd = new Random(9);
        double[] values = new double[101];
        for (int i = 0; i < values.length; i++) {
            values[i] = rnd.nextDouble();
        }
        ScorerLayerAggregate a = ScorerLayerAggregate.of("m", "c", 0, DET, "balanced_accuracy", values, new long[values.length]);
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        // 101 values: the 10th, 50th and 90th percentiles fall exactly on ranks 10, 50 and 90.
        assertEquals(sorted[10], a.p10(), EPS);
        assertEquals(sorted[50], a.p50(), EPS);
        assertEquals(sorted[90], a.p90(), EPS);
        assertEquals(java.util.Arrays.stream(values).average().orElseThrow(), a.mean(), 1e-12);
    }
}
