package io.neuronexplainer.producer.sampling;

/**
 * How windows are sampled per neuron: window length, top-K kept, how many top windows go to
 * explanation and to scoring, how many random windows are scored, how many windows the shared
 * random sample holds at least for following drift across checkpoints, and the user's seed.
 * Part of the run identity and of the series: changing any of them starts a new series.
 */
public record SamplingSettings(int windowTokens, int topK, int explainTop, int scoreTop, int random,
                               int driftWindows, long seed) {
    public static final int WINDOW_TOKENS = 64;
    /** The shared random sample's size from the first checkpoint on, so drift is measured on enough windows. */
    public static final int DRIFT_WINDOWS = 50;
    static final int MAX_DRIFT_WINDOWS = 100_000;

    public SamplingSettings {
        if (windowTokens <= 0) {
            throw new IllegalArgumentException("window length must be positive, not " + windowTokens);
        }
        if (topK <= 0) {
            throw new IllegalArgumentException("--top-k must be positive, not " + topK);
        }
        if (explainTop < 1 || scoreTop < 0 || random < 0) {
            throw new IllegalArgumentException("--explain-top must be >= 1, --score-top and --random >= 0");
        }
        if (explainTop + scoreTop > topK) {
            throw new IllegalArgumentException("--explain-top " + explainTop + " + --score-top " + scoreTop
                    + " exceeds --top-k " + topK);
        }
        // The bound keeps the maxima (windows x neurons floats per layer) and a snapshot's sample readable.
        if (driftWindows < 0 || driftWindows > MAX_DRIFT_WINDOWS) {
            throw new IllegalArgumentException("--drift-windows must be 0 to " + MAX_DRIFT_WINDOWS + ", not " + driftWindows);
        }
    }

    /**
     * The defaults: 64-token windows, top 20, 5 explanation + 5 scoring top windows, 5 random,
     * a shared sample of at least 50 windows, seed 0.
     */
    public static SamplingSettings defaults() {
        return new SamplingSettings(WINDOW_TOKENS, 20, 5, 5, 5, DRIFT_WINDOWS, 0L);
    }

    /**
     * The sample's first windows scoring may use: R plus spares, so a neuron can skip the sampled
     * windows it already uses as top windows and still find R.
     */
    public int scoringSampleSize() {
        return random == 0 ? 0 : random + explainTop + scoreTop;
    }

    /** Windows in the shared random sample: enough for scoring and at least {@link #driftWindows}. */
    public int reservoirSize() {
        return Math.max(driftWindows, scoringSampleSize());
    }
}
