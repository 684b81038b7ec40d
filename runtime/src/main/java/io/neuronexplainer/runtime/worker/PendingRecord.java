package io.neuronexplainer.runtime.worker;

import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumed record from poll until its offset commits: not started, running, or finished with
 * its serialised outputs or the failure that makes it a dead letter.
 */
final class PendingRecord {
    final ConsumerRecord<byte[], byte[]> raw;
    final TopicPartition partition;
    long startNanos;

    // Written by the completing thread before it hands the record to the worker loop through a queue.
    volatile List<ProducerRecord<byte[], byte[]>> outputs;
    volatile Throwable failure;
    volatile int attempts;
    /** The outputs could not be serialised for a reason outside the record (the registry did not answer): try again. */
    volatile boolean retry;
    volatile long finishedNanos;

    // Owned by the worker loop.
    boolean finished;
    /** What the record's outputs will be the identity of; null when the worker has no identities. */
    String identity;
    /** Its identity was already produced when it was read: its offset commits with no outputs. */
    boolean duplicate;

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
}
