package io.neuronexplainer.scorer;

import java.util.Arrays;

/**
 * One scorer kind's figures over one (model, checkpoint, layer)'s neurons, one score per neuron
 * ({@link ScorerLayerAggregates} says which): how many neurons, the mean, 10th, 50th and 90th
 * percentiles of the figure (correlation for simulation, balanced accuracy for detection and
 * fuzzing) and the mean prompt tokens those scores' simulator or judge calls took.
 */
public record ScorerLayerAggregate(String model, String checkpoint, int layer, String scorerKind, String figure,
                                   long count, double mean, double p10, double p50, double p90,
                                   double meanScorerPromptTokens) {

    /** The aggregate of these per-neuron values and prompt tokens (same length, not empty). */
    static ScorerLayerAggregate of(String model, String checkpoint, int layer, String scorerKind, String figure,
                                   double[] values, long[] promptTokens) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double tokens = 0;
        for (long t : promptTokens) {
            tokens += t;
        }
        return new ScorerLayerAggregate(model, checkpoint, layer, scorerKind, figure, sorted.length,
                Arrays.stream(sorted).sum() / sorted.length, quantile(sorted, 0.1), quantile(sorted, 0.5),
                quantile(sorted, 0.9), tokens / promptTokens.length);
    }

    /** The q-quantile of sorted values, interpolated linearly between the nearest ranks (numpy's default). */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
