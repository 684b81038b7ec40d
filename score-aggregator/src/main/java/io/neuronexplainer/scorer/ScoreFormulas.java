package io.neuronexplainer.scorer;

import java.util.OptionalDouble;

/**
 * The published score definitions over paired true (t) and simulated (p) activations. Each
 * returns empty when the score is undefined (zero variance or a zero denominator), so callers
 * store 0 and flag it instead of carrying NaN.
 *
 * <p>Scale: like OpenAI's neuron-explainer (scoring.py with its UncalibratedNeuronSimulator, as in
 * its generate_and_score_explanation demo), rsquared and absolute_dev_explained compare the raw
 * true activations with the simulator's raw 0-10 expected values; nothing is rescaled.
 * Correlation is scale-invariant, so this choice only affects those two.
 */
public final class ScoreFormulas {
    private ScoreFormulas() {}

    /** Pearson r; undefined with fewer than 2 values or when either side is constant. */
    public static OptionalDouble correlation(double[] t, double[] p) {
        int n = check(t, p);
        if (n < 2) {
            return OptionalDouble.empty();
        }
        double mt = 0, mp = 0;
        for (int i = 0; i < n; i++) {
            mt += t[i];
            mp += p[i];
        }
        mt /= n;
        mp /= n;
        double cov = 0, vt = 0, vp = 0;
        for (int i = 0; i < n; i++) {
            double dt = t[i] - mt, dp = p[i] - mp;
            cov += dt * dp;
            vt += dt * dt;
            vp += dp * dp;
        }
        if (vt <= 0 || vp <= 0) {
            return OptionalDouble.empty();
        }
        // Rounding can push |r| a hair past 1 for perfectly linear data.
        return OptionalDouble.of(Math.max(-1, Math.min(1, cov / Math.sqrt(vt * vp))));
    }

    /** {@code 1 - mean((t-p)^2) / mean(t^2)}; undefined when t is all zero or empty. */
    public static OptionalDouble rsquared(double[] t, double[] p) {
        int n = check(t, p);
        double err = 0, sq = 0;
        for (int i = 0; i < n; i++) {
            double d = t[i] - p[i];
            err += d * d;
            sq += t[i] * t[i];
        }
        return n == 0 || sq == 0 ? OptionalDouble.empty() : OptionalDouble.of(1 - err / sq);
    }

    /** {@code 1 - mean|t-p| / mean|t|}; undefined when t is all zero or empty. */
    public static OptionalDouble absoluteDevExplained(double[] t, double[] p) {
        int n = check(t, p);
        double err = 0, abs = 0;
        for (int i = 0; i < n; i++) {
            err += Math.abs(t[i] - p[i]);
            abs += Math.abs(t[i]);
        }
        return n == 0 || abs == 0 ? OptionalDouble.empty() : OptionalDouble.of(1 - err / abs);
    }

    private static int check(double[] t, double[] p) {
        if (t.length != p.length) {
            throw new IllegalArgumentException("true and simulated activations differ in length: "
                    + t.length + " vs " + p.length);
        }
        return t.length;
    }
}
