package io.neuronexplainer.producer;

/** Counts of one pass over a corpus, and its time (forward passes + top-K + sampling, not emission). */
public record PassResult(long documents, long windows, long tokens, long tokensSkipped, double seconds) {

    public double tokensPerSecond() {
        return tokens / Math.max(1e-9, seconds);
    }
}
