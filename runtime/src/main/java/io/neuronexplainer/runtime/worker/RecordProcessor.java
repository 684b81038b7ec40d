package io.neuronexplainer.runtime.worker;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A worker's per-record work: the outputs of one consumed record, computed asynchronously. A
 * failed future (or a thrown exception) is acted on by its class ({@link Faults}): tried again,
 * a pause, or a dead letter.
 */
@FunctionalInterface
public interface RecordProcessor<K, V> {
    CompletableFuture<List<Output>> process(K key, V value);
}
