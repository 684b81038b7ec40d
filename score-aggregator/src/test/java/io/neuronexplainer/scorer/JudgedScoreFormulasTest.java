package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.schemas.JudgedExcerpt;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Balanced accuracy and AUROC against hand-computed values and independent textbook computations. */
class JudgedScoreFormulasTest {
    private static final double EPS = 1e-12;

    static JudgedExcerpt judged(long window, boolean truth, boolean saysYes, Double p) {
        return new JudgedExcerpt(window, List.of(), truth, saysYes, p);
    }

    /** (TP / (TP + FN) + TN / (TN + FP)) / 2 from a confusion matrix; the present class's rate alone when one is missing. */
    static double balancedAccuracy(List<JudgedExcerpt> judged) {
        double tp = 0, fn = 0, tn = 0, fp = 0;
        for (JudgedExcerpt j : judged) {
            if (j.getTruth()) {
                if (j.getSaysYes()) tp++; else fn++;
            } else {
                if (j.getSaysYes()) fp++; else tn++;
            }
        }
        if (tp + fn == 0) return tn / (tn + fp);
        if (tn + fp == 0) return tp / (tp + fn);
        return (tp / (tp + fn) + tn / (tn + fp)) / 2;
    }

    /** Mann-Whitney by rank sums with mid-ranks for ties: (R+ - n+(n+ + 1)/2) / (n+ n-). NaN when undefined. */
    static double auroc(List<JudgedExcerpt> judged) {
        int n = judged.size();
        double[] p = new double[n];
        for (int i = 0; i < n; i++) {
            if (judged.get(i).getYesProbability() == null) return Double.NaN;
            p[i] = judged.get(i).getYesProbability();
        }
        double[] sorted = p.clone();
        Arrays.sort(sorted);
        double rankSum = 0;
        int positives = 0;
        for (int i = 0; i < n; i++) {
            if (!judged.get(i).getTruth()) continue;
            positives++;
            int below = 0, equal = 0;
            for (double x : sorted) {
                if (x < p[i]) below++; else if (x == p[i]) equal++;
            }
            rankSum += below + (equal + 1) / 2.0; // 1-based mid-rank
        }
        int negatives = n - positives;
        if (positives == 0 || negatives == 0) return Double.NaN;
        return (rankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
    }

    @Test
    void aHandWorkedExampleWithTies() {
        List<JudgedExcerpt> j = List.of(
                judged(0, true, true, 0.9), judged(1, true, true, 0.8), judged(2, true, false, 0.4), judged(3, true, true, 0.4),
                judged(1000, false, false, 0.4), judged(1001, false, true, 0.3), judged(1002, false, false, 0.1));
        // Positives right 3/4, negatives right 2/3.
        assertEquals((0.75 + 2.0 / 3) / 2, BalancedAccuracy.of(j), EPS);
        // Pairs won: 0.9 and 0.8 beat all 3 negatives; each 0.4 ties one and beats two: (3 + 3 + 2.5 + 2.5) / 12.
        assertEquals(11.0 / 12, Auroc.of(j).orElseThrow(), EPS);
        assertEquals(auroc(j), Auroc.of(j).orElseThrow(), EPS);
    }

    @Test
    void aJudgeSayingYesToEverythingScoresOneHalfHoweverManyPositives() {
        List<JudgedExcerpt> j = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            j.add(judged(i, true, true, 0.7));
        }
        j.add(judged(1000, false, true, 0.7));
        assertEquals(0.5, BalancedAccuracy.of(j), EPS);
        assertEquals(0.5, Auroc.of(j).orElseThrow(), EPS, "all tied");
    }

    @Test
    void withOneClassTheBalancedAccuracyIsThatClassesShareAndAurocIsUndefined() {
        List<JudgedExcerpt> positives = List.of(judged(0, true, true, 0.9), judged(1, true, false, 0.2), judged(2, true, true, 0.6));
        assertEquals(2.0 / 3, BalancedAccuracy.of(positives), EPS);
        assertTrue(Auroc.of(positives).isEmpty());
        List<JudgedExcerpt> negatives = List.of(judged(1000, false, false, 0.1), judged(1001, false, true, 0.8));
        assertEquals(0.5, BalancedAccuracy.of(negatives), EPS);
        assertTrue(Auroc.of(negatives).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> BalancedAccuracy.of(List.of()));
    }

    @Test
    void aurocNeedsEveryProbability() {
        List<JudgedExcerpt> missing = List.of(judged(0, true, true, 0.9), judged(1000, false, false, null));
        assertTrue(Auroc.of(missing).isEmpty());
        assertEquals(1.0, BalancedAccuracy.of(missing), EPS, "balanced accuracy needs only the answers");
        assertTrue(Auroc.of(List.of(judged(0, true, true, Double.NaN), judged(1000, false, false, 0.1))).isEmpty());
    }

    @Test
    void randomJudgementsMatchTheTextbookComputations() {
        Random rnd = new Random(5);
        for (int round = 0; round < 200; round++) {
            List<JudgedExcerpt> j = new ArrayList<>();
            int n = 1 + rnd.nextInt(30);
            for (int i = 0; i < n; i++) {
                // Coarse probabilities, so ties are common.
                j.add(judged(i, rnd.nextBoolean(), rnd.nextBoolean(), rnd.nextInt(6) / 5.0));
            }
            assertEquals(balancedAccuracy(j), BalancedAccuracy.of(j), EPS);
            double expected = auroc(j);
            if (Double.isNaN(expected)) {
                assertTrue(Auroc.of(j).isEmpty());
            } else {
                assertEquals(expected, Auroc.of(j).orElseThrow(), EPS);
            }
        }
    }
}
