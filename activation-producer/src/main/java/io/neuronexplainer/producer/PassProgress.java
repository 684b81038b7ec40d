package io.neuronexplainer.producer;

/** Told how far a corpus pass has got, after every batch. */
public interface PassProgress {
    /** The pass has begun reading windows (the clock for rates starts here). */
    default void started() {}

    /** @param fraction of the corpus or window budget done, 0-1, NaN when unknown */
    void update(long windows, long tokens, double fraction);

    /** Time a batch spent in the model's forward pass and in top-K and sampling. */
    default void batch(long forwardNanos, long topKNanos) {}

    void finish();

    PassProgress NONE = new PassProgress() {
        @Override
        public void update(long windows, long tokens, double fraction) {}

        @Override
        public void finish() {}
    };
}
