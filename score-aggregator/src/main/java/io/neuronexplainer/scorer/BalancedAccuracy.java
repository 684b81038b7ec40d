package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.JudgedExcerpt;
import java.util.List;

/**
 * The judged scorers' headline figure: the mean over the classes present (truth true, truth false)
 * of the share of that class's judgements the judge got right ({@code says_yes == truth}). Balanced,
 * so a judge saying yes to everything scores 0.5 however many positives there are; with one class
 * missing it is that class's share.
 */
public final class BalancedAccuracy {
    private BalancedAccuracy() {}

    /** The balanced accuracy of non-empty judgements. */
    public static double of(List<JudgedExcerpt> judged) {
        if (judged.isEmpty()) {
            throw new IllegalArgumentException("no judgements");
        }
        int positives = 0, negatives = 0, positivesRight = 0, negativesRight = 0;
        for (JudgedExcerpt j : judged) {
            if (j.getTruth()) {
                positives++;
                positivesRight += j.getSaysYes() ? 1 : 0;
            } else {
                negatives++;
                negativesRight += j.getSaysYes() ? 0 : 1;
            }
        }
        if (positives == 0) {
            return (double) negativesRight / negatives;
        }
        if (negatives == 0) {
            return (double) positivesRight / positives;
        }
        return ((double) positivesRight / positives + (double) negativesRight / negatives) / 2;
    }
}
