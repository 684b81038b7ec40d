package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.WindowKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Scores against an independent plain-loop computation of the published definitions. */
class ExplanationScorerTest {
    private static final double EPS = 1e-6;

    /** Pearson r by the textbook sums formula (not the two-pass one the scorer uses). */
    static double pearson(double[] x, double[] y) {
        int n = x.length;
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < n; i++) {
            sx += x[i];
            sy += y[i];
            sxx += x[i] * x[i];
            syy += y[i] * y[i];
            sxy += x[i] * y[i];
        }
        return (n * sxy - sx * sy) / Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
    }

    static double rsquared(double[] t, double[] p) {
        double a = 0, b = 0;
        for (int i = 0; i < t.length; i++) {
            a += (t[i] - p[i]) * (t[i] - p[i]) / t.length;
            b += t[i] * t[i] / t.length;
        }
        return 1 - a / b;
    }

    static double absDev(double[] t, double[] p) {
        double a = 0, b = 0;
        for (int i = 0; i < t.length; i++) {
            a += Math.abs(t[i] - p[i]) / t.length;
            b += Math.abs(t[i]) / t.length;
        }
        return 1 - a / b;
    }

    static double[] concat(List<List<Float>> lists) {
        return lists.stream().flatMap(List::stream).mapToDouble(Float::doubleValue).toArray();
    }

    @Test
    void scoresEqualPlainLoopDefinitions() {
        Random rnd = new Random(7);
        List<List<Float>> topTrue = new ArrayList<>(), topPred = new ArrayList<>();
        List<List<Float>> rndTrue = new ArrayList<>(), rndPred = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            topTrue.add(Fixtures.floats(rnd, 16, 4.0f, -0.2f));
            topPred.add(Fixtures.floats(rnd, 16, 10f, 0f));
            rndTrue.add(Fixtures.floats(rnd, 16, 0.5f, -0.2f));
            rndPred.add(Fixtures.floats(rnd, 16, 3f, 0f));
        }
        // Make the prediction partly right so that correlations are far from 0.
        for (int w = 0; w < 3; w++) {
            for (int i = 0; i < 16; i += 3) {
                topPred.get(w).set(i, topTrue.get(w).get(i) * 2.5f);
            }
        }
        var key = Fixtures.key(2, 5);
        var activations = Fixtures.activations(key, topTrue, rndTrue);
        var simulation = Fixtures.simulation(key, "e1", topPred, rndPred);
        NeuronScore s = ExplanationScorer.score(activations, simulation, Instant.EPOCH);

        List<List<Float>> allTrue = new ArrayList<>(topTrue);
        allTrue.addAll(rndTrue);
        List<List<Float>> allPred = new ArrayList<>(topPred);
        allPred.addAll(rndPred);
        double[] t = concat(allTrue), p = concat(allPred);
        assertEquals(pearson(t, p), s.getCorrelation(), EPS);
        assertEquals(pearson(concat(topTrue), concat(topPred)), s.getTopCorrelation(), EPS);
        assertEquals(pearson(concat(rndTrue), concat(rndPred)), s.getRandomCorrelation(), EPS);
        assertEquals(rsquared(t, p), s.getRsquared(), EPS);
        assertEquals(absDev(t, p), s.getAbsoluteDevExplained(), EPS);
        assertEquals(96, s.getTokens());
        assertEquals(3, s.getTopWindows());
        assertEquals(3, s.getRandomWindows());
        assertTrue(s.getUndefinedScores().isEmpty());
        assertTrue(s.getCorrelation() > 0.2, "the fixture was built to correlate: " + s.getCorrelation());

        // Concatenation, not a mean of per-window correlations.
        double meanOfWindows = 0;
        for (int w = 0; w < 6; w++) {
            meanOfWindows += pearson(concat(List.of(allTrue.get(w))), concat(List.of(allPred.get(w)))) / 6;
        }
        assertTrue(Math.abs(meanOfWindows - s.getCorrelation()) > 1e-3);
    }

    @Test
    void constantPredictionLeavesCorrelationsUndefined() {
        var key = Fixtures.key(0, 1);
        List<List<Float>> topTrue = List.of(List.of(0f, 2f, 4f), List.of(1f, 0f, 3f));
        List<List<Float>> rndTrue = List.of(List.of(0f, 0.5f, 0f));
        List<List<Float>> topPred = List.of(List.of(5f, 5f, 5f), List.of(5f, 5f, 5f));
        List<List<Float>> rndPred = List.of(List.of(5f, 5f, 5f));
        NeuronScore s = ExplanationScorer.score(Fixtures.activations(key, topTrue, rndTrue),
                Fixtures.simulation(key, "e", topPred, rndPred), Instant.EPOCH);
        assertEquals(0.0, s.getCorrelation());
        assertEquals(0.0, s.getTopCorrelation());
        assertEquals(0.0, s.getRandomCorrelation());
        assertEquals(List.of("correlation", "top_correlation", "random_correlation"), s.getUndefinedScores());
        double[] t = concat(List.of(topTrue.get(0), topTrue.get(1), rndTrue.get(0)));
        double[] p = {5, 5, 5, 5, 5, 5, 5, 5, 5};
        assertEquals(rsquared(t, p), s.getRsquared(), EPS);
        assertEquals(absDev(t, p), s.getAbsoluteDevExplained(), EPS);
        assertTrue(Double.isNaN(pearson(t, p)), "the plain definition is 0/0 here");
    }

    @Test
    void allZeroTruthLeavesEveryRatioUndefined() {
        var key = Fixtures.key(0, 2);
        List<List<Float>> zeros = List.of(List.of(0f, 0f, 0f, 0f));
        NeuronScore s = ExplanationScorer.score(Fixtures.activations(key, zeros, zeros),
                Fixtures.simulation(key, "e", List.of(List.of(1f, 0f, 2f, 0f)), List.of(List.of(0f, 3f, 0f, 0f))),
                Instant.EPOCH);
        assertEquals(List.of("correlation", "top_correlation", "random_correlation", "rsquared", "absolute_dev_explained"),
                s.getUndefinedScores());
        for (double v : new double[] {s.getCorrelation(), s.getTopCorrelation(), s.getRandomCorrelation(),
                s.getRsquared(), s.getAbsoluteDevExplained()}) {
            assertEquals(0.0, v);
        }
        double[] t = {0, 0, 0, 0, 0, 0, 0, 0};
        double[] p = {1, 0, 2, 0, 0, 3, 0, 0};
        assertTrue(Double.isNaN(rsquared(t, p)) || Double.isInfinite(rsquared(t, p)));
    }

    @Test
    void perfectPredictionOnAnotherScaleCorrelatesFully() {
        var key = Fixtures.key(1, 1);
        List<List<Float>> t = List.of(List.of(0f, 0.5f, 1f, 0.25f));
        List<List<Float>> p = List.of(List.of(0f, 5f, 10f, 2.5f));
        NeuronScore s = ExplanationScorer.score(Fixtures.activations(key, t, List.of()),
                Fixtures.simulation(key, "e", p, List.of()), Instant.EPOCH);
        assertEquals(1.0, s.getCorrelation(), EPS);
        assertEquals(List.of("random_correlation"), s.getUndefinedScores());
        // Raw scale, as neuron-explainer: a 10x prediction is far off in rsquared.
        assertEquals(rsquared(concat(t), concat(p)), s.getRsquared(), EPS);
        assertTrue(s.getRsquared() < 0);
    }

    @Test
    void mismatchedSimulationIsRefusedWithTheReason() {
        var key = Fixtures.key(1, 2);
        var activations = Fixtures.activations(key, List.of(List.of(1f, 2f)), List.of(List.of(0f, 1f)));
        var missing = Fixtures.simulation(key, "e", List.of(List.of(1f, 2f)), List.of());
        var e = assertThrows(InvalidSimulationException.class, () -> ExplanationScorer.score(activations, missing, Instant.EPOCH));
        assertTrue(e.getMessage().contains("lacks scoring window RANDOM#1000"), e.getMessage());
        var shorter = Fixtures.simulation(key, "e", List.of(List.of(1f)), List.of(List.of(0f, 1f)));
        e = assertThrows(InvalidSimulationException.class, () -> ExplanationScorer.score(activations, shorter, Instant.EPOCH));
        assertTrue(e.getMessage().contains("2 tokens but 1 predictions"), e.getMessage());
        assertEquals(WindowKind.TOP, WindowPairing.of(activations,
                Fixtures.simulation(key, "e", List.of(List.of(1f, 2f)), List.of(List.of(0f, 1f)))).top().get(0).kind());
    }
}
