package io.neuronexplainer.runtime.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.neuronexplainer.runtime.KafkaClients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
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
 * any order; a partition's offset only advances over its contiguous finished prefix
 * ({@link InFlightRecords}), and that prefix's outputs are sent in the same transaction
 * ({@link TransactionCommitter}), so a crash replays exactly the records whose outputs were never
 * committed. Hand-written because Kafka Streams processes a partition's records one at a time,
 * which cannot keep dozens of slow LLM calls in flight.
 *
 * <p>A failure is acted on by its class ({@link Faults}): a transient one is tried again with
 * backoff, one that would fail every record pauses the worker ({@link WorkerPause}) until it
 * clears, and only a record that is itself bad becomes a dead letter ({@link DeadLetterWriter}).
 *
 * <p>Given the identity of what a record will produce, the worker is also idempotent on it
 * ({@link ProcessedIdentities}): a record whose identity was already produced, by this instance
 * or any earlier owner of its partition, commits its offset with no outputs and no LLM call.
 */
public final class TransactionalWorker<K, V> {
    private static final Logger log = LoggerFactory.getLogger(TransactionalWorker.class);

    private final KafkaClients clients;
    private final WorkerSettings settings;
    private final Deserializer<K> keys;
    private final Deserializer<V> values;
    private final RecordProcessor<K, V> processor;
    private final ToIntFunction<Throwable> attemptsOf;
    private final Function<? super V, String> identityOf;
    private final MeterRegistry registry;
    private final InFlightRecords inFlight = new InFlightRecords();
    private final WorkerMeters meters;
    private final WorkerPause pause;
    private final WorkerHealth health;
    private final WorkerProgress progress = new WorkerProgress();
    private volatile boolean stopRequested;

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
        this.meters = new WorkerMeters(registry, settings.stage(), inFlight.running);
        this.pause = new WorkerPause(settings.stage(), settings.faultTiming(), registry);
        this.health = new WorkerHealth(pause);
    }

    /** Asks {@link #run()} to finish the records in flight (within the drain timeout), commit them and return. */
    public void stop() {
        stopRequested = true;
    }

    /** The partitions this instance owns now. */
    public Set<TopicPartition> assignment() {
        return progress.assignment;
    }

    /** Records committed so far (outputs or dead letter). */
    public long done() {
        return progress.done;
    }

    public long deadLetters() {
        return progress.deadLetters;
    }

    /** Records committed without outputs because their identity had already been produced. */
    public long duplicatesSkipped() {
        return progress.duplicatesSkipped;
    }

    /** Whether it is paused on a fault that would fail every record. */
    public boolean paused() {
        return pause.paused();
    }

    /** Its liveness and readiness, to serve with {@link WorkerHealth#serveOn}. */
    public WorkerHealth health() {
        return health;
    }

    /**
     * Runs until {@link #stop()}, or until idle for {@code exitWhenIdle}.
     *
     * @throws WorkerFencedException when another instance took over this one's identity
     * @throws WorkerFailedException when its Kafka clients cannot go on
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
        if (settings.transactionTimeout() != null) {
            producerConfig.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) settings.transactionTimeout().toMillis());
        }
        List<KafkaClientMetrics> clientMetrics = new ArrayList<>();
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
        KafkaConsumer<byte[], byte[]> consumer = null;
        ProcessedIdentities processed = null;
        try {
            consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            clientMetrics.add(new KafkaClientMetrics(producer));
            clientMetrics.add(new KafkaClientMetrics(consumer));
            clientMetrics.forEach(m -> m.bindTo(registry));
            try {
                // Fences an earlier instance with this transactional id and aborts its open transaction.
                producer.initTransactions();
            } catch (KafkaException e) {
                throw new FatalClientErrors(settings).stop("cannot start transactions as " + settings.transactionalId(), e);
            }
            if (identityOf != null) {
                processed = ProcessedIdentities.open(clients, settings.inputTopic(), settings.groupId(),
                        settings.stage() + "-" + settings.instanceId() + "-processed");
            }
            OutputSerialiser serialiser = new OutputSerialiser(clients.registry());
            RecordAttempt<K, V> attempt = new RecordAttempt<>(keys, values, processor, attemptsOf, identityOf, processed, serialiser,
                    inFlight, meters);
            TransactionCommitter committer = new TransactionCommitter(settings, producer, processed,
                    new DeadLetterWriter(settings.stage(), settings.inputTopic(), serialiser));
            PollLoop loop = new PollLoop(settings, consumer, inFlight, attempt, committer, processed, pause, health, progress, meters,
                    () -> stopRequested);
            consumer.subscribe(List.of(settings.inputTopic()), loop.rebalanceListener());
            log.info("{} {} consuming {} in group {} (transactional id {}, {} in flight at most)", settings.stage(),
                    settings.instanceId(), settings.inputTopic(), settings.groupId(), settings.transactionalId(), settings.maxInFlight());
            health.started();
            stoppedBecause = loop.run();
        } finally {
            health.ended();
            clientMetrics.forEach(KafkaClientMetrics::close);
            close(consumer, producer, processed);
        }
        WorkerSummary summary = new WorkerSummary(settings.stage(), progress.done, progress.deadLetters, progress.duplicatesSkipped,
                progress.transactions, progress.rewinds, Duration.ofNanos(System.nanoTime() - start), stoppedBecause);
        log.info("{}", summary.line());
        return summary;
    }

    private void close(KafkaConsumer<byte[], byte[]> consumer, KafkaProducer<byte[], byte[]> producer, ProcessedIdentities processed) {
        inFlight.clear();
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
        progress.assignment = Set.of();
    }
}
