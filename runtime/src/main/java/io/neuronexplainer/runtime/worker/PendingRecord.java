package io.neuronexplainer.runtime.worker;

import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumed record from poll until its offset commits: not started, running, waiting to be
 * tried again, held by a pause, or finished with its serialised outputs or the failure that
 * makes it a dead letter.
 */
final class PendingRecord {
    final ConsumerRecord<byte[], byte[]> raw;
    final TopicPartition partition;
    long startNanos;

    // Written by the completing thread before it hands the record to the worker loop through a queue.
    volatile List<ProducerRecord<byte[], byte[]>> outputs;
    /** Outputs made but not serialised (the registry failed): a retry serialises them again instead of redoing the work. */
    volatile List<Output> unserialised;
    volatile Throwable failure;
    volatile Fault fault;
    volatile int attempts;

    // Owned by the worker loop.
    /** Its outputs or its dead letter are ready to commit. */
    boolean finished;
    /** Its partition was dropped (rewound or revoked): whatever it still does is ignored. */
    boolean forgotten;
    /** What the record's outputs will be the identity of; null when the worker has no identities. */
    String identity;
    /** Its identity was already produced when it was read: its offset commits with no outputs. */
    boolean duplicate;
    /** Times it was tried again after a transient fault. */
    int retries;
    /** When it may be tried again, while it waits after a transient fault. */
    long retryAtNanos;

    PendingRecord(ConsumerRecord<byte[], byte[]> raw) {
        this.raw = raw;
        this.partition = new TopicPartition(raw.topic(), raw.partition());
    }

    long offset() {
        return raw.offset();
    }

    boolean failed() {
        return failure != null;
    }

    /** Clears the last attempt's outcome before another; outputs made but not serialised are kept. */
    void resetOutcome() {
        outputs = null;
        failure = null;
        fault = null;
        finished = false;
    }

    String where() {
        return raw.topic() + "-" + raw.partition() + "@" + raw.offset();
    }
}
