package io.neuronexplainer.producer.sampling;

/**
 * How windows are sampled per neuron: window length, top-K kept, how many top windows go to
 * explanation and to scoring, how many random windows, and the seed of the random sample.
 */
public record SamplingSettings(int windowTokens, int topK, int explainTop, int scoreTop, int random, long seed) {
    public static final int WINDOW_TOKENS = 64;

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
    }

    /** The defaults: 64-token windows, top 20, 5 explanation + 5 scoring top windows, 5 random, seed 0. */
    public static SamplingSettings defaults() {
        return new SamplingSettings(WINDOW_TOKENS, 20, 5, 5, 5, 0L);
    }

    /** Random windows to sample: R plus spares, so a neuron can skip the sampled windows it already uses. */
    public int reservoirSize() {
        return random == 0 ? 0 : random + explainTop + scoreTop;
    }
}
