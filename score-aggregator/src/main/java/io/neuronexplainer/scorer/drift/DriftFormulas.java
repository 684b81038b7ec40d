package io.neuronexplainer.scorer.drift;

import io.neuronexplainer.scorer.ScoreFormulas;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;

/**
 * How much a neuron changed between two checkpoints of a series, from what each checkpoint's
 * activations record holds: its max activation on every window of the series' shared random
 * sample, and its top-K window indexes.
 */
public final class DriftFormulas {
    private DriftFormulas() {}

    /**
     * 1 - Pearson r of the neuron's per-window maxima at the two checkpoints, over the windows
     * both name (all of them within a series). Empty when undefined: fewer than two shared
     * windows, or either side constant (callers store 0 and flag it).
     */
    public static OptionalDouble activationDrift(Map<Long, Double> before, Map<Long, Double> after) {
        Map<Long, Double> a = new TreeMap<>(before);
        a.keySet().retainAll(after.keySet());
        double[] x = new double[a.size()];
        double[] y = new double[a.size()];
        int i = 0;
        for (Map.Entry<Long, Double> e : a.entrySet()) {
            x[i] = e.getValue();
            y[i++] = after.get(e.getKey());
        }
        OptionalDouble r = ScoreFormulas.correlation(x, y);
        return r.isPresent() ? OptionalDouble.of(1 - r.getAsDouble()) : OptionalDouble.empty();
    }

    /** Jaccard overlap of two top-window sets: |A ∩ B| / |A ∪ B|, 1 when both are empty. */
    public static double topWindowOverlap(Set<Long> before, Set<Long> after) {
        Set<Long> union = new HashSet<>(before);
        union.addAll(after);
        if (union.isEmpty()) {
            return 1;
        }
        Set<Long> both = new HashSet<>(before);
        both.retainAll(after);
        return (double) both.size() / union.size();
    }
}
