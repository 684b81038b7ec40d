package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.JudgedExcerpt;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The judged scorers' ranking figure: the probability that a random positive gets a higher
 * probability of yes than a random negative, ties counting one half (the Mann-Whitney U over the
 * pairs). Defined only when every judgement has a probability and both classes are present.
 */
public final class Auroc {
    private Auroc() {}

    /** The AUROC, or empty when a probability is missing (or NaN) or a class is. */
    public static OptionalDouble of(List<JudgedExcerpt> judged) {
        List<Double> positives = new ArrayList<>();
        List<Double> negatives = new ArrayList<>();
        for (JudgedExcerpt j : judged) {
            Double p = j.getYesProbability();
            if (p == null || p.isNaN()) {
                return OptionalDouble.empty();
            }
            (j.getTruth() ? positives : negatives).add(p);
        }
        if (positives.isEmpty() || negatives.isEmpty()) {
            return OptionalDouble.empty();
        }
        // Every pair: a few dozen excerpts a neuron, so no ranking is needed.
        double wins = 0;
        for (double p : positives) {
            for (double n : negatives) {
                wins += p > n ? 1 : p == n ? 0.5 : 0;
            }
        }
        return OptionalDouble.of(wins / ((double) positives.size() * negatives.size()));
    }
}
