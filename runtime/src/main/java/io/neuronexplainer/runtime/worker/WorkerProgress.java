package io.neuronexplainer.runtime.worker;

import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/** What a worker has done so far and which partitions it owns, written by its loop and read from any thread. */
final class WorkerProgress {
    volatile Set<TopicPartition> assignment = Set.of();
    volatile long done;
    volatile long deadLetters;
    volatile long duplicatesSkipped;
    volatile long transactions;
    volatile long rewinds;
    volatile long retries;

    void committed(TransactionCommitter.Committed c) {
        done += c.total();
        deadLetters += c.deadLetters();
        duplicatesSkipped += c.duplicates();
        transactions++;
    }
}
