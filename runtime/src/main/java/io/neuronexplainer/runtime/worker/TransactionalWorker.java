package io.neuronexplainer.runtime.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.IncompatibleSchemaException;
import io.neuronexplainer.schemas.SchemaRegistryException;
import io.neuronexplainer.schemas.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes a topic in a consumer group and processes every record exactly once: each record's
 * outputs (or its dead letter) and its consumed offset commit in one Kafka transaction.
 *
 * <p>Records are processed asynchronously, up to {@code maxInFlight} at once, and may finish in
 * any order; a partition's offset only advances over its contiguous finished prefix, and that
 * prefix's outputs are sent in the same transaction, so a crash replays exactly the records
 * whose outputs were never committed. Records are deserialised here, not by the consumer, so one
 * that does not deserialise becomes a dead letter (with its raw bytes) instead of stopping the
 * worker. Hand-written because Kafka Streams processes a partition's records one at a time,
 * which cannot keep dozens of slow LLM calls in flight.
 *
 * <p>Given the identity of what a record will produce, the worker is also idempotent on it
 * ({@link ProcessedIdentities}): a record whose identity was already produced, by this instance
 * or any earlier owner of its partition, commits its offset with no outputs and no LLM call.
 */
public final class TransactionalWorker<K, V> {
    private static final Logger log = LoggerFactory.getLogger(TransactionalWorker.class);
    private static final Duration POLL = Duration.ofMillis(50);
    private static final int MAX_CONSECUTIVE_ABORTS = 5;
    private static final Duration RETRY_DELAY = Duration.ofSeconds(2);

    private final KafkaClients clients;
    private final WorkerSettings settings;
    private final Deserializer<K> keys;
    private final Deserializer<V> values;
    private final RecordProcessor<K, V> processor;
    private final ToIntFunction<Throwable> attemptsOf;
    private final Function<? super V, String> identityOf;
    private final MeterRegistry registry;
    private final AvroSerializer<SpecificRecord> keySerializer;
    private final AvroSerializer<SpecificRecord> valueSerializer;
    private final String deadLetterTopic;

    private final AtomicInteger running = new AtomicInteger();
    private final LinkedBlockingQueue<PendingRecord> completions = new LinkedBlockingQueue<>();
    private final WorkerMeters meters;
    private volatile boolean stopRequested;
    private volatile Set<TopicPartition> assignment = Set.of();
    private volatile long done;
    private volatile long deadLetters;
    private volatile long duplicatesSkipped;

    // Owned by the loop thread.
    private final Map<TopicPartition, ArrayDeque<PendingRecord>> pending = new HashMap<>();
    private final ArrayDeque<PendingRecord> backlog = new ArrayDeque<>();
    private KafkaConsumer<byte[], byte[]> consumer;
    private KafkaProducer<byte[], byte[]> producer;
    private ProcessedIdentities processed;
    private RuntimeException fatal;
    private long transactions;
    private long rewinds;
    private int consecutiveAborts;
    private long lastCommitNanos = System.nanoTime();
    private long lastAssignedNanos = System.nanoTime();

    /**
     * @param attemptsOf how many tries a failure took (e.g. an LLM client's retry count), for the dead letter
     * @param identityOf the identity of what a record's outputs will be, known before processing it
     *        (e.g. the explanation id); null to process every record delivered, duplicates too
     */
    public TransactionalWorker(KafkaClients clients, WorkerSettings settings, Deserializer<K> keys, Deserializer<V> values,
                               RecordProcessor<K, V> processor, ToIntFunction<Throwable> attemptsOf,
                               Function<? super V, String> identityOf, MeterRegistry registry) {
        this.clients = clients;
        this.settings = settings;
        this.keys = keys;
        this.values = values;
        this.processor = processor;
        this.attemptsOf = attemptsOf;
        this.identityOf = identityOf;
        this.registry = registry;
        this.keySerializer = new AvroSerializer<>(clients.registry(), true);
        this.valueSerializer = new AvroSerializer<>(clients.registry(), false);
        this.deadLetterTopic = Topics.deadLetter(settings.inputTopic());
        this.meters = new WorkerMeters(registry, settings.stage(), running);
    }

    /** Asks {@link #run()} to finish the records in flight (within the drain timeout), commit them and return. */
    public void stop() {
        stopRequested = true;
    }

    /** The partitions this instance owns now. */
    public Set<TopicPartition> assignment() {
        return assignment;
    }

    /** Records committed so far (outputs or dead letter). */
    public long done() {
        return done;
    }

    public long deadLetters() {
        return deadLetters;
    }

    /** Records committed without outputs because their identity had already been produced. */
    public long duplicatesSkipped() {
        return duplicatesSkipped;
    }

    /**
     * Runs until {@link #stop()}, or until idle for {@code exitWhenIdle}.
     *
     * @throws WorkerFencedException when another instance took over this one's identity
     */
    public WorkerSummary run() {
        long start = System.nanoTime();
        String stoppedBecause;
        Map<String, Object> consumerConfig = clients.consumer(settings.groupId());
        consumerConfig.put(ConsumerConfig.CLIENT_ID_CONFIG, settings.stage() + "-" + settings.instanceId());
        if (settings.staticMember()) {
            consumerConfig.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, settings.instanceId());
        }
        Map<String, Object> producerConfig = clients.producer(settings.transactionalId());
        producerConfig.put(ProducerConfig.CLIENT_ID_CONFIG, settings.stage() + "-" + settings.instanceId() + "-producer");
        List<KafkaClientMetrics> clientMetrics = new ArrayList<>();
        producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
        try {
            consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            clientMetrics.add(new KafkaClientMetrics(producer));
            clientMetrics.add(new KafkaClientMetrics(consumer));
            clientMetrics.forEach(m -> m.bindTo(registry));
            try {
                // Fences an earlier instance with this transactional id and aborts its open transaction.
                producer.initTransactions();
            } catch (KafkaException e) {
                throw fatalError("cannot start transactions as " + settings.transactionalId(), e);
            }
            if (identityOf != null) {
                processed = ProcessedIdentities.open(clients, settings.inputTopic(), settings.groupId(),
                        settings.stage() + "-" + settings.instanceId() + "-processed");
            }
            consumer.subscribe(List.of(settings.inputTopic()), new Rebalance());
            log.info("{} {} consuming {} in group {} (transactional id {}, {} in flight at most)", settings.stage(),
                    settings.instanceId(), settings.inputTopic(), settings.groupId(), settings.transactionalId(), settings.maxInFlight());
            stoppedBecause = loop();
        } finally {
            clientMetrics.forEach(KafkaClientMetrics::close);
            closeClients();
        }
        WorkerSummary summary = new WorkerSummary(settings.stage(), done, deadLetters, duplicatesSkipped, transactions, rewinds,
                Duration.ofNanos(System.nanoTime() - start), stoppedBecause);
        log.info("{}", summary.line());
        return summary;
    }

    private String loop() {
        long lastInput = System.nanoTime();
        long drainDeadline = 0;
        boolean draining = false;
        while (true) {
            if (stopRequested && !draining) {
                draining = true;
                drainDeadline = System.nanoTime() + settings.drainTimeout().toNanos();
                // Records not started are left for the next owner; the ones running get to finish.
                backlog.clear();
                log.info("{} stopping: finishing {} records in flight", settings.stage(), running.get());
            }
            boolean wantInput = !draining && backlog.isEmpty() && tracked() < 4L * settings.maxInFlight() + 500;
            updatePause(wantInput);
            var records = pollConsumer(wantInput ? POLL : Duration.ZERO);
            loadProcessedIdentities(records);
            for (ConsumerRecord<byte[], byte[]> raw : records) {
                PendingRecord r = new PendingRecord(raw);
                pending.computeIfAbsent(r.partition, p -> new ArrayDeque<>()).add(r);
                backlog.add(r);
                lastInput = System.nanoTime();
            }
            startFromBacklog();
            // Nothing new to read: wait for a call to finish, which frees a slot or makes a commit possible.
            takeCompletions(wantInput ? 0 : POLL.toMillis());
            startFromBacklog();
            boolean dueCommit = System.nanoTime() - lastCommitNanos >= settings.commitInterval().toNanos();
            if (dueCommit || draining) {
                commit();
            }
            if (draining) {
                if (running.get() == 0 || System.nanoTime() > drainDeadline) {
                    commit();
                    return "stopped";
                }
            } else if (settings.exitWhenIdle() != null && tracked() == 0
                    // Idle counts from the last input or the last assignment, whichever is later:
                    // a slow group join is not idleness.
                    && System.nanoTime() - Math.max(lastInput, lastAssignedNanos) >= settings.exitWhenIdle().toNanos()) {
                return "idle for " + settings.exitWhenIdle().toMillis() / 1000.0 + " s";
            }
        }
    }

    private Iterable<ConsumerRecord<byte[], byte[]>> pollConsumer(Duration timeout) {
        try {
            var records = consumer.poll(timeout);
            if (fatal != null) {
                throw fatal;
            }
            return records;
        } catch (WakeupException e) {
            return List.of();
        } catch (FencedInstanceIdException e) {
            throw fatalError("another instance joined group " + settings.groupId() + " with instance id " + settings.instanceId(), e);
        }
    }

    /**
     * Reads the identities already produced for partitions whose first records just arrived:
     * only now is their committed offset known to be stable (see {@link ProcessedIdentities}).
     */
    private void loadProcessedIdentities(Iterable<ConsumerRecord<byte[], byte[]>> records) {
        if (processed == null) {
            return;
        }
        Set<Integer> toLoad = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> raw : records) {
            if (!processed.isLoaded(raw.partition())) {
                toLoad.add(raw.partition());
            }
        }
        if (!toLoad.isEmpty()) {
            processed.load(toLoad);
        }
    }

    private long tracked() {
        long n = 0;
        for (ArrayDeque<PendingRecord> q : pending.values()) {
            n += q.size();
        }
        return n;
    }

    /** Reading stops while records wait for a slot: they would only pile up in memory. */
    private void updatePause(boolean wantInput) {
        Set<TopicPartition> owned = consumer.assignment();
        if (wantInput) {
            Set<TopicPartition> paused = consumer.paused();
            if (!paused.isEmpty()) {
                consumer.resume(paused);
            }
        } else if (!owned.isEmpty() && !consumer.paused().containsAll(owned)) {
            consumer.pause(owned);
        }
    }

    private void startFromBacklog() {
        while (!backlog.isEmpty() && running.get() < settings.maxInFlight()) {
            start(backlog.poll());
        }
    }

    private void start(PendingRecord r) {
        r.startNanos = System.nanoTime();
        K key;
        V value;
        try {
            key = keys.deserialize(r.raw.topic(), r.raw.headers(), r.raw.key());
            value = values.deserialize(r.raw.topic(), r.raw.headers(), r.raw.value());
        } catch (RuntimeException e) {
            r.failure = new SerializationException("cannot deserialise record: " + e.getMessage(), e);
            r.attempts = 1;
            r.finished = true;
            return;
        }
        if (value == null) {
            // A tombstone on a compacted input: nothing to explain, but its offset still commits.
            r.outputs = List.of();
            r.finished = true;
            return;
        }
        if (identityOf != null) {
            try {
                r.identity = identityOf.apply(value);
            } catch (RuntimeException e) {
                r.failure = e;
                r.attempts = 1;
                r.finished = true;
                return;
            }
            if (processed.contains(r.partition.partition(), r.identity)) {
                r.outputs = List.of();
                r.duplicate = true;
                r.finished = true;
                return;
            }
        }
        running.incrementAndGet();
        CompletableFuture<List<Output>> future;
        try {
            future = processor.process(key, value);
            if (future == null) {
                future = CompletableFuture.failedFuture(new IllegalStateException("the processor returned no result"));
            }
        } catch (RuntimeException e) {
            future = CompletableFuture.failedFuture(e);
        }
        future.whenComplete((outputs, error) -> finish(r, outputs, error));
    }

    /** Runs on whichever thread completed the work: serialises the outputs there, off the loop. */
    private void finish(PendingRecord r, List<Output> outputs, Throwable error) {
        try {
            if (error == null) {
                try {
                    r.outputs = serialise(outputs);
                } catch (SchemaRegistryException e) {
                    // An incompatible schema is this code's fault and final; a registry that did not
                    // answer is nobody's, and the record is processed again rather than dead-lettered.
                    if (e instanceof IncompatibleSchemaException) {
                        error = e;
                    } else {
                        r.retry = true;
                        r.failure = e;
                    }
                } catch (RuntimeException e) {
                    error = e;
                }
            }
            if (error != null) {
                Throwable cause = unwrap(error);
                r.attempts = Math.max(1, attemptsOf.applyAsInt(cause));
                r.failure = cause;
            }
            (r.failure == null ? meters.succeeded : meters.failed).record(System.nanoTime() - r.startNanos, TimeUnit.NANOSECONDS);
            r.finishedNanos = System.nanoTime();
        } finally {
            running.decrementAndGet();
            completions.add(r);
        }
    }

    private List<ProducerRecord<byte[], byte[]>> serialise(List<Output> outputs) {
        if (outputs == null) {
            throw new IllegalStateException("the processor returned no outputs");
        }
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(outputs.size());
        for (Output o : outputs) {
            records.add(new ProducerRecord<>(o.topic(), keySerializer.serialize(o.topic(), o.key()),
                    valueSerializer.serialize(o.topic(), o.value())));
        }
        return records;
    }

    private static Throwable unwrap(Throwable e) {
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    private void takeCompletions(long waitMs) {
        try {
            PendingRecord r = waitMs > 0 ? completions.poll(waitMs, TimeUnit.MILLISECONDS) : completions.poll();
            while (r != null) {
                r.finished = true;
                r = completions.poll();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopRequested = true;
        }
    }

    /** Commits every partition's contiguous finished prefix: its outputs and its next offset, in one transaction. */
    private void commit() {
        lastCommitNanos = System.nanoTime();
        Map<TopicPartition, List<PendingRecord>> ready = new LinkedHashMap<>();
        for (var entry : pending.entrySet()) {
            List<PendingRecord> prefix = new ArrayList<>();
            for (PendingRecord r : entry.getValue()) {
                if (!r.finished || r.retry) {
                    break;
                }
                prefix.add(r);
            }
            if (!prefix.isEmpty()) {
                ready.put(entry.getKey(), prefix);
            }
        }
        if (ready.isEmpty()) {
            retryFailedSerialisations();
            return;
        }
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
                        producer.send(deadLetter(r));
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
            producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            producer.commitTransaction();
        } catch (KafkaException e) {
            abortAndRewind(e);
            return;
        }
        consecutiveAborts = 0;
        transactions++;
        meters.transactions.increment();
        if (processed != null) {
            produced.forEach(processed::addAll);
        }
        for (var entry : ready.entrySet()) {
            ArrayDeque<PendingRecord> q = pending.get(entry.getKey());
            for (int i = 0; i < entry.getValue().size(); i++) {
                q.poll();
            }
            if (q.isEmpty()) {
                pending.remove(entry.getKey());
            }
        }
        done += ok + failed + duplicates;
        deadLetters += failed;
        duplicatesSkipped += duplicates;
        meters.done.increment(ok + failed + duplicates);
        meters.deadLetters.increment(failed);
        meters.duplicatesSkipped.increment(duplicates);
        if (duplicates > 0) {
            log.debug("{}: {} records skipped: their identity was already produced", settings.stage(), duplicates);
        }
        retryFailedSerialisations();
    }

    /**
     * Re-reads a partition from a record whose outputs could not be serialised because the
     * registry did not answer, a few seconds later, so it is processed again instead of lost.
     */
    private void retryFailedSerialisations() {
        for (TopicPartition p : new HashSet<>(pending.keySet())) {
            PendingRecord head = pending.get(p).peekFirst();
            if (head != null && head.finished && head.retry
                    && System.nanoTime() - head.finishedNanos >= RETRY_DELAY.toNanos()) {
                log.warn("{}: processing {}-{}@{} again: its outputs could not be serialised: {}", settings.stage(),
                        p.topic(), p.partition(), head.offset(), head.failure.getMessage());
                if (consumer.assignment().contains(p)) {
                    consumer.seek(p, head.offset());
                }
                forget(p);
                rewinds++;
                meters.rewinds.increment();
            }
        }
    }

    private ProducerRecord<byte[], byte[]> deadLetter(PendingRecord r) {
        Throwable e = r.failure;
        String message = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        log.warn("{}: dead letter {}-{}@{} after {} attempt(s): {}: {}", settings.stage(), r.raw.topic(), r.raw.partition(),
                r.offset(), r.attempts, e.getClass().getSimpleName(), message.replaceAll("\\s+", " "));
        DeadLetter letter = new DeadLetter(settings.stage(), r.raw.topic(), r.raw.partition(), r.offset(),
                r.raw.key() == null ? null : ByteBuffer.wrap(r.raw.key()),
                r.raw.value() == null ? null : ByteBuffer.wrap(r.raw.value()),
                e.getClass().getName(), message, r.attempts, Instant.now());
        // The key stays the failed record's own bytes: it may be the very thing that did not deserialise.
        return new ProducerRecord<>(deadLetterTopic, r.raw.key(), valueSerializer.serialize(deadLetterTopic, letter));
    }

    /**
     * A transaction that could not commit wrote nothing: forget every uncommitted record and
     * re-read from the committed offsets, so they are processed (and committed) again.
     */
    private void abortAndRewind(KafkaException e) {
        if (isFatal(e)) {
            throw fatalError("cannot commit as " + settings.transactionalId(), e);
        }
        log.warn("{}: transaction aborted, re-reading from the committed offsets: {}", settings.stage(), e.toString());
        try {
            producer.abortTransaction();
        } catch (KafkaException abortFailure) {
            throw fatalError("cannot abort a failed transaction as " + settings.transactionalId(), abortFailure);
        }
        rewinds++;
        meters.rewinds.increment();
        if (++consecutiveAborts >= MAX_CONSECUTIVE_ABORTS) {
            throw new KafkaException(settings.stage() + ": " + consecutiveAborts + " transactions in a row failed, last: " + e.getMessage(), e);
        }
        Set<TopicPartition> owned = consumer.assignment();
        for (TopicPartition p : new HashSet<>(pending.keySet())) {
            ArrayDeque<PendingRecord> q = pending.get(p);
            if (owned.contains(p) && !q.isEmpty()) {
                consumer.seek(p, q.peekFirst().offset());
            }
            forget(p);
        }
    }

    private static boolean isFatal(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException
                    || t instanceof FencedInstanceIdException || t instanceof OutOfOrderSequenceException
                    || t instanceof AuthorizationException || t instanceof UnsupportedVersionException) {
                return true;
            }
        }
        return false;
    }

    private WorkerFencedException fatalError(String what, Throwable e) {
        String why = e instanceof ProducerFencedException || e instanceof InvalidProducerEpochException
                ? "fenced: another instance started with transactional id " + settings.transactionalId()
                : e instanceof FencedInstanceIdException ? "fenced: another instance took group instance id " + settings.instanceId()
                : e.getMessage();
        return new WorkerFencedException(settings.stage() + " " + settings.instanceId() + ": " + what + ": " + why + "; stopping", e);
    }

    /**
     * Drops a partition's uncommitted records; whoever reads it next starts from its committed
     * offset. Calls still running are left to finish (they keep counting against the in-flight
     * bound while they hold an LLM connection) and their results are ignored.
     */
    private void forget(TopicPartition p) {
        pending.remove(p);
        backlog.removeIf(r -> r.partition.equals(p));
    }

    /** Forgets a partition that is no longer this instance's, and the identities produced for it. */
    private void release(TopicPartition p) {
        forget(p);
        if (processed != null) {
            processed.drop(p.partition());
        }
    }

    private void closeClients() {
        pending.clear();
        backlog.clear();
        if (consumer != null) {
            try {
                // Leave at once (even as a static member) so the group hands our partitions over now.
                consumer.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                        .withTimeout(Duration.ofSeconds(10)));
            } catch (RuntimeException e) {
                log.warn("{}: closing the consumer: {}", settings.stage(), e.toString());
            }
        }
        try {
            producer.close(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            log.warn("{}: closing the producer: {}", settings.stage(), e.toString());
        }
        // After the consumer: closing it commits in the revocation callback, which needs the identities.
        if (processed != null) {
            processed.close();
        }
        assignment = Set.of();
    }

    /** Commits what is finished before partitions go; never commits for partitions already gone. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty() || fatal != null) {
                return;
            }
            takeCompletions(0);
            try {
                commit();
            } catch (RuntimeException e) {
                fatal = e;
            }
            partitions.forEach(TransactionalWorker.this::release);
            assignment = Set.copyOf(consumer.assignment().stream().filter(p -> !partitions.contains(p)).toList());
            log.info("{} {}: partitions revoked: {}", settings.stage(), settings.instanceId(), partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            partitions.forEach(TransactionalWorker.this::release);
            assignment = Set.copyOf(consumer.assignment().stream().filter(p -> !partitions.contains(p)).toList());
            log.info("{} {}: partitions lost: {}", settings.stage(), settings.instanceId(), partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (processed != null) {
                // Whatever was known of these is stale: another owner may have produced since.
                partitions.forEach(p -> processed.drop(p.partition()));
            }
            assignment = Set.copyOf(consumer.assignment());
            lastAssignedNanos = System.nanoTime();
            log.info("{} {}: partitions assigned: {}", settings.stage(), settings.instanceId(), partitions);
        }
    }
}
