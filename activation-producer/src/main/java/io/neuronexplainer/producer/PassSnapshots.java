package io.neuronexplainer.producer;

/**
 * Takes the snapshots a {@link CorpusPass} hands over while it runs. Called on the pass's
 * thread with a private copy, so it must return quickly: write in the background
 * ({@link SnapshotWriter}).
 */
@FunctionalInterface
public interface PassSnapshots {
    void save(PassState copy);

    PassSnapshots NONE = copy -> {};
}
