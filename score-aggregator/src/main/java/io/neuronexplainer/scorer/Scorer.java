package io.neuronexplainer.scorer;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.neuronexplainer.runtime.DaemonThreads;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.scorer.drift.LayerDrift;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.RegistryClient;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running score-aggregator: the Kafka Streams app (exactly_once_v2), its stores, and its HTTP
 * endpoint. Startable from code in any JVM ({@link #start}), closed with {@link #close}.
 */
public final class Scorer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scorer.class);

    private final KafkaStreams streams;
    private final ScorerStores stores;
    private final ScorerMetrics metrics;
    private final KafkaStreamsMetrics streamsMetrics;
    private final ScorerHttpServer http;
    private final ScheduledExecutorService refresher;
    private volatile Throwable failure;
    private Long nextScorerLayers; // System.nanoTime() of the next per-scorer refresh; only the gauge thread uses it

    private Scorer(KafkaStreams streams, ScorerStores stores, ScorerMetrics metrics, KafkaStreamsMetrics streamsMetrics,
                   ScorerHttpServer http, ScheduledExecutorService refresher) {
        this.streams = streams;
        this.stores = stores;
        this.metrics = metrics;
        this.streamsMetrics = streamsMetrics;
        this.http = http;
        this.refresher = refresher;
    }

    /** The Streams properties the scorer runs with (overrides applied last). */
    public static Properties properties(KafkaClients clients, ScorerSettings settings) {
        Properties p = new Properties();
        p.putAll(clients.extra());
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, settings.applicationId());
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, clients.bootstrapServers());
        p.put(RegistryClient.URL_CONFIG, clients.registryUrl());
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, settings.stateDir().toAbsolutePath().toString());
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, settings.threads());
        // The activations KTable is restored from its compacted source topic: no second copy.
        p.put(StreamsConfig.TOPOLOGY_OPTIMIZATION_CONFIG, StreamsConfig.REUSE_KTABLE_SOURCE_TOPICS);
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
        // Each exactly-once commit flushes and commits a transaction (~100 ms on a busy
        // machine): once a second keeps that under a tenth of the time. Scores then appear
        // within about a second, nothing next to the LLM calls that precede them.
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), 8 * 1024 * 1024);
        // Each neuron sends ~10 small records (scores, changelogs, repartitions) to 14 topics:
        // batches of 64 KB instead of 16 KB let a linger gather them into fewer requests (broker CPU
        // -30%, +15% neurons/s in `bench scorer`). Each partition written holds a batch's whole
        // 64 KB while it fills: 128 MB (Kafka's default is 32) leaves room for 2,048 of them, 14
        // topics of 146 partitions, before a send would wait for memory. Allocated as used.
        p.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 64 * 1024);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.BUFFER_MEMORY_CONFIG), 128L * 1024 * 1024);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        // The join is correct in any arrival order, so a task need not wait for its other input
        // partition to be fetched to order records by time (that wait capped throughput at
        // about one fetch of large activations records per round trip).
        p.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
        // Values of 1 KB and more in RocksDB's blob files, out of compaction's way (LargeValueStores).
        p.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, LargeValueStores.class);
        // Activations records are ~13 KB (15 windows of 64 tokens): fetch many per partition.
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), 8 * 1024 * 1024);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_BYTES_CONFIG), 64 * 1024 * 1024);
        p.putAll(settings.streamsOverrides());
        return p;
    }

    /**
     * Starts the Streams app and, unless the port is -1, the HTTP endpoint. {@code registry}
     * receives the scorer's and Kafka Streams' meters; a Prometheus registry is also served at
     * the HTTP endpoint's /metrics.
     */
    public static Scorer start(KafkaClients clients, ScorerSettings settings, MeterRegistry registry) throws IOException {
        Properties props = properties(clients, settings);
        ScorerMetrics metrics = new ScorerMetrics(registry);
        KafkaStreams streams = new KafkaStreams(ScorerTopology.build(clients.registry(), metrics, settings.orphanTimeout(),
                settings.reuseThreshold(), props), props);
        ScorerStores stores = new ScorerStores(streams,
                AvroDeserializer.of(clients.registry(), io.neuronexplainer.schemas.NeuronActivations.class),
                new NeuronRuns(new AvroSerializer<>(clients.registry(), true)));
        KafkaStreamsMetrics streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(registry);
        ScorerHttpServer http = null;
        ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("scorer-gauges"));
        Scorer scorer = null;
        try {
            if (settings.httpPort() >= 0) {
                http = ScorerHttpServer.start(settings.httpHost(), settings.httpPort(), stores,
                        registry instanceof PrometheusMeterRegistry p ? p : null);
            }
            scorer = new Scorer(streams, stores, metrics, streamsMetrics, http, refresher);
            Scorer self = scorer;
            streams.setUncaughtExceptionHandler(e -> {
                log.error("scorer stream thread failed, stopping: {}", e.toString(), e);
                self.failure = e;
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            });
            streams.start();
            refresher.scheduleWithFixedDelay(self::refreshGauges, 1, 5, TimeUnit.SECONDS);
            log.info("scorer {} started, {} stream thread(s){}", settings.applicationId(), settings.threads(),
                    http == null ? "" : ", HTTP on port " + http.port());
            return scorer;
        } catch (RuntimeException | IOException e) {
            if (scorer != null) {
                scorer.close();
            } else {
                if (http != null) {
                    http.close();
                }
                refresher.shutdownNow();
                streams.close();
            }
            throw e;
        }
    }

    private void refreshGauges() {
        try {
            if (streams.state() == KafkaStreams.State.RUNNING) {
                metrics.updateLayers(stores.layers());
                metrics.updateDrift(LayerDrift.of(stores.drift(d -> true, java.util.Comparator.comparing(d -> 0))));
                refreshScorerLayers();
            }
        } catch (InvalidStateStoreException e) {
            // Rebalancing: the next refresh will see the stores again.
        } catch (RuntimeException e) {
            log.warn("cannot refresh layer gauges: {}", e.toString());
        }
    }

    /**
     * The per-scorer layer gauges scan the scores store ({@link ScorerStores#scorerLayers}): paced
     * so the scan takes at most a tenth of this thread's time, at every refresh on a small store.
     */
    private void refreshScorerLayers() {
        long now = System.nanoTime();
        if (nextScorerLayers != null && now - nextScorerLayers < 0) {
            return;
        }
        metrics.updateScorerLayers(stores.scorerLayers());
        long took = System.nanoTime() - now;
        nextScorerLayers = now + 10 * took;
    }

    /** Waits until the app is RUNNING (stores queryable). */
    public void awaitRunning(Duration timeout) throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING) {
            if (failure != null || !streams.state().isRunningOrRebalancing() && streams.state() != KafkaStreams.State.CREATED) {
                throw new IllegalStateException("scorer stopped: " + (failure == null ? streams.state() : failure));
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("scorer not running after " + timeout.toSeconds() + " s (state " + streams.state() + ")");
            }
            Thread.sleep(50);
        }
    }

    public ScorerStores stores() {
        return stores;
    }

    public KafkaStreams streams() {
        return streams;
    }

    /** Scores computed by this instance since it started (including ones later aborted). */
    public double scoresComputed() {
        return metrics.scoresTotal();
    }

    /** Joins not scored because a score of their identity already existed, since this instance started. */
    public double duplicatesSkipped() {
        return metrics.duplicatesSkipped();
    }

    /** Simulations waiting for their activations in this instance's tasks, as their last orphan sweep counted. */
    public long simulationsWaiting() {
        return metrics.simulationsWaiting();
    }

    /** Simulations this instance dead-lettered as orphans since it started (including ones later aborted). */
    public double orphansDeadLettered() {
        return metrics.orphanedTotal();
    }

    /** The HTTP port, or -1 when there is no HTTP endpoint. */
    public int httpPort() {
        return http == null ? -1 : http.port();
    }

    /** The failure that stopped the app, or null. */
    public Throwable failure() {
        return failure;
    }

    public boolean isRunning() {
        return failure == null && streams.state().isRunningOrRebalancing();
    }

    @Override
    public void close() {
        refresher.shutdownNow();
        if (http != null) {
            http.close();
        }
        streams.close(Duration.ofSeconds(30));
        streamsMetrics.close();
    }
}
