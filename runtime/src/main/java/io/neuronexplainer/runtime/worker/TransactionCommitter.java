package io.neuronexplainer.runtime.worker;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits finished records in one Kafka transaction: their outputs or dead letters, the markers of
 * the identities they produced, and the consumed offsets after them. A transaction that cannot
 * commit is aborted, so it wrote nothing, and the caller re-reads from the committed offsets.
 */
final class TransactionCommitter {
    private static final Logger log = LoggerFactory.getLogger(TransactionCommitter.class);
    /** Aborts in a row (not counting broker outages, which are waited out) after which the worker stops. */
    private static final int MAX_CONSECUTIVE_ABORTS = 5;
    /** commitTransaction calls that time out are repeated (Kafka requires it) this many times before the worker gives up. */
    private static final int COMMIT_TIMEOUTS = 5;

    private final WorkerSettings settings;
    private final KafkaProducer<byte[], byte[]> producer;
    private final ProcessedIdentities processed;
    private final DeadLetterWriter deadLetters;
    private final FatalClientErrors fatal;
    private int consecutiveAborts;

    /** What one committed transaction held, by kind of record. */
    record Committed(long ok, long deadLetters, long duplicates) {
        long total() {
            return ok + deadLetters + duplicates;
        }
    }

    TransactionCommitter(WorkerSettings settings, KafkaProducer<byte[], byte[]> producer, ProcessedIdentities processed,
                         DeadLetterWriter deadLetters) {
        this.settings = settings;
        this.producer = producer;
        this.processed = processed;
        this.deadLetters = deadLetters;
        this.fatal = new FatalClientErrors(settings);
    }

    /**
     * Commits {@code ready}: per partition a contiguous finished prefix.
     *
     * @return what was committed, or null when the transaction was aborted and nothing of it written
     * @throws WorkerFencedException when another instance took this one's place
     * @throws WorkerFailedException when the producer cannot go on
     */
    Committed commit(Map<TopicPartition, List<PendingRecord>> ready, ConsumerGroupMetadata group) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        Map<Integer, Set<String>> produced = new HashMap<>();
        long ok = 0;
        long failed = 0;
        long duplicates = 0;
        try {
            producer.beginTransaction();
            for (var entry : ready.entrySet()) {
                int partition = entry.getKey().partition();
                Set<String> ids = produced.computeIfAbsent(partition, p -> new HashSet<>());
                for (PendingRecord r : entry.getValue()) {
                    if (r.failed()) {
                        producer.send(deadLetters.letter(r));
                        failed++;
                    } else if (r.duplicate || (r.identity != null
                            // Decided here, in offset order, too: two records of one identity may be in flight at once.
                            && (processed.contains(partition, r.identity) || !ids.add(r.identity)))) {
                        duplicates++;
                    } else {
                        r.outputs.forEach(producer::send);
                        if (r.identity != null) {
                            producer.send(processed.marker(partition, r.identity, r.raw.topic() + "-" + partition + "@" + r.offset()));
                        }
                        ok++;
                    }
                }
                List<PendingRecord> prefix = entry.getValue();
                offsets.put(entry.getKey(), new OffsetAndMetadata(prefix.get(prefix.size() - 1).offset() + 1));
            }
            producer.sendOffsetsToTransaction(offsets, group);
            commitTransaction();
        } catch (KafkaException e) {
            abort(e);
            return null;
        }
        consecutiveAborts = 0;
        if (processed != null) {
            produced.forEach(processed::addAll);
        }
        return new Committed(ok, failed, duplicates);
    }

    /** A commit that timed out must be called again (the producer allows nothing else until it completes). */
    private void commitTransaction() {
        for (int attempt = 1; ; attempt++) {
            try {
                producer.commitTransaction();
                return;
            } catch (TimeoutException e) {
                if (attempt >= COMMIT_TIMEOUTS) {
                    throw e;
                }
                Duration wait = settings.faultTiming().retryWait(attempt);
                log.warn("{}: committing a transaction timed out (the brokers did not answer); trying again in {} ms",
                        settings.stage(), wait.toMillis());
                try {
                    Thread.sleep(wait.toMillis());
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private void abort(KafkaException e) {
        if (FatalClientErrors.isFatal(e)) {
            throw fatal.stop("cannot commit as " + settings.transactionalId(), e);
        }
        Fault fault = Faults.classify(e);
        log.warn("{}: transaction aborted ({}), re-reading from the committed offsets: {}", settings.stage(), fault.reason(), e.toString());
        try {
            producer.abortTransaction();
        } catch (KafkaException abortFailure) {
            throw fatal.stop("cannot abort a failed transaction as " + settings.transactionalId(), abortFailure);
        }
        // A broker or registry outage is waited out; the same failure again and again is not.
        if (!fault.is(FaultClass.TRANSIENT) && ++consecutiveAborts >= MAX_CONSECUTIVE_ABORTS) {
            throw new WorkerFailedException(settings.stage() + ": " + consecutiveAborts + " transactions in a row failed, last: "
                    + e.getMessage(), e);
        }
    }
}
