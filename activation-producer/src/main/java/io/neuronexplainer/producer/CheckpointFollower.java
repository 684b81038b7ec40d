package io.neuronexplainer.producer;

import io.neuronexplainer.producer.model.ModelLoadException;
import io.neuronexplainer.runtime.DaemonThreads;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.CheckpointReleased;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.PassShard;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.Topics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The producer as a service ({@code produce --follow}): consumes {@code checkpoints} and
 * {@code pass-shards} in one consumer group. A released checkpoint is planned into shards of its
 * pass ({@code --shards}, 1 by default), published to {@code pass-shards}; the group's instances
 * share the shards, each run through a {@link CheckpointRunner} with snapshots, and the instance
 * that finishes the last shard merges and emits the run. A record's offset is committed only after
 * its work is done (planned, shard run, or dead-lettered as unrunnable), so a killed instance's
 * shard is taken by the partition's next owner and continued from its last snapshot. While a pass
 * runs, the partitions are paused and the consumer keeps polling, so a pass of hours never exceeds
 * the group's poll interval.
 */
public final class CheckpointFollower implements AutoCloseable {
    public static final String GROUP = "activation-producer";
    private static final Logger log = LoggerFactory.getLogger(CheckpointFollower.class);
    private static final Duration RETRY_AFTER = Duration.ofSeconds(10);

    private final KafkaClients clients;
    private final CheckpointRunner runner;
    private final boolean keepFiles;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<CheckpointReleased> values;
    private final AvroDeserializer<PassShard> shards;
    private final ExecutorService passes = Executors.newSingleThreadExecutor(DaemonThreads.named("producer-pass"));
    private final AtomicLong completed = new AtomicLong();
    /** When the consumer last came back from a poll: the broker answers and the group holds us. */
    private volatile long lastPollNanos = System.nanoTime();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile boolean running = true;
    /** The partition whose record is being worked on, and whether a rebalance took it away meanwhile. */
    private volatile TopicPartition working;
    private volatile boolean revoked;

    /**
     * @param instanceId a stable id (e.g. the pod name) for static group membership, or null
     * @param keepFiles  keep a downloaded checkpoint's files after its run completed
     */
    public CheckpointFollower(KafkaClients clients, CheckpointRunner runner, String groupId, String instanceId,
                              boolean keepFiles) {
        this.clients = clients;
        this.runner = runner;
        this.keepFiles = keepFiles;
        Map<String, Object> config = clients.consumer(groupId);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        if (instanceId != null && !instanceId.isBlank()) {
            config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        }
        this.consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.values = AvroDeserializer.of(clients.registry(), CheckpointReleased.class);
        this.shards = AvroDeserializer.of(clients.registry(), PassShard.class);
    }

    /** Follows until {@link #stop()}; returns the number of checkpoints run to completion. */
    public long run() {
        consumer.subscribe(List.of(Topics.CHECKPOINTS, Topics.PASS_SHARDS), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                TopicPartition current = working;
                if (current != null && partitions.contains(current)) {
                    revoked = true; // its next owner redoes the work from the snapshots: do not commit it here
                }
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                log.info("following checkpoints on partitions {}", partitions);
            }
        });
        log.info("following topic {} for released checkpoints", Topics.CHECKPOINTS);
        try {
            while (running) {
                var records = consumer.poll(Duration.ofMillis(500));
                lastPollNanos = System.nanoTime();
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    handle(record);
                    if (!running) {
                        break;
                    }
                }
            }
        } catch (WakeupException e) {
            // stop() woke the consumer.
        }
        return completed.get();
    }

    /** Does one record's work in the pass thread while this thread keeps the group membership alive. */
    private void handle(ConsumerRecord<byte[], byte[]> record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        Callable<Void> work;
        String what;
        try {
            if (record.topic().equals(Topics.PASS_SHARDS)) {
                PassShard shard = shards.deserialize(record.topic(), record.value());
                if (shard == null) {
                    commit(tp, record.offset());
                    return;
                }
                what = shard.getModel() + " / " + shard.getCheckpoint() + " shard " + (shard.getShard() + 1) + " of "
                        + shard.getShards();
                work = () -> {
                    runShard(shard);
                    return null;
                };
            } else {
                CheckpointReleased released = values.deserialize(record.topic(), record.value());
                if (released == null) {
                    commit(tp, record.offset());
                    return;
                }
                what = released.getModel() + " / " + released.getCheckpoint();
                work = () -> {
                    plan(released);
                    return null;
                };
            }
        } catch (RuntimeException e) {
            deadLetter(record, e);
            commit(tp, record.offset());
            return;
        }
        working = tp;
        revoked = false;
        while (running) {
            consumer.pause(consumer.assignment());
            Future<Void> pass = passes.submit(work);
            try {
                while (!pass.isDone()) {
                    consumer.pause(consumer.assignment()); // a rebalance may have assigned new partitions
                    rewind(consumer.poll(Duration.ofMillis(200)));
                    lastPollNanos = System.nanoTime();
                    if (revoked) {
                        // Another producer owns the record now and continues from the snapshots; this pass,
                        // if it goes on, is fenced at its next write.
                        pass.cancel(true);
                        log.warn("{}: its partition moved to another producer during the pass; leaving it to that one", what);
                        return;
                    }
                }
                pass.get();
                if (!revoked) {
                    commit(tp, record.offset());
                }
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable cause = e.getCause();
                if (fenced(cause)) {
                    log.warn("{}: another producer took this work over (fenced); leaving it to that one", what);
                    return;
                }
                if (cause instanceof ModelLoadException) {
                    // The checkpoint itself cannot be run (unreadable weights, shapes that do not match): its own fault.
                    failed.incrementAndGet();
                    log.error("{} cannot be run: {}", what, cause.getMessage());
                    deadLetter(record, cause);
                    commit(tp, record.offset());
                    return;
                }
                if (cause instanceof IllegalArgumentException) {
                    // This producer's settings do not fit the work (another corpus or --batch than the group's):
                    // a fault of the process, not of the record. Stop; a producer with the right settings takes it.
                    log.error("{}: {}; stopping this producer", what, cause.getMessage());
                    running = false;
                    return;
                }
                log.error("{} failed ({}); trying again in {} s", what,
                        cause == null ? e.getMessage() : cause.getMessage(), RETRY_AFTER.toSeconds());
                sleepPolling(RETRY_AFTER);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            } finally {
                consumer.resume(consumer.paused());
            }
        }
    }

    /** Splits a released checkpoint's pass into shards for the group, or skips a run already done. */
    private void plan(CheckpointReleased released) throws Exception {
        CheckpointRunner.Checkpoint c = new CheckpointRunner.Checkpoint(Path.of(released.getFolder()),
                released.getTokenizer().isEmpty() ? null : Path.of(released.getTokenizer()), released.getModel(),
                released.getCheckpoint(), released.getStep());
        List<PassShard> planned = runner.plan(c, released.getDownloaded());
        if (planned.isEmpty()) {
            skipped.incrementAndGet();
            deleteDownloaded(released.getDownloaded(), released.getFolder(), released.getModel(), released.getCheckpoint());
            return;
        }
        try (KafkaProducer<SpecificRecord, SpecificRecord> producer = new KafkaProducer<>(clients.producer(null),
                new AvroSerializer<>(clients.registry(), true), new AvroSerializer<>(clients.registry(), false))) {
            int partitions = producer.partitionsFor(Topics.PASS_SHARDS).size();
            for (PassShard shard : planned) {
                // Spread evenly over the partitions, so the group's instances take different shards.
                int partition = (int) ((long) shard.getShard() * partitions / shard.getShards());
                producer.send(new ProducerRecord<>(Topics.PASS_SHARDS, partition, new CheckpointRunKey(shard.getModel(),
                        shard.getCheckpoint(), shard.getCorpus(), shard.getRunId(), shard.getShard()), shard)).get();
            }
        }
        log.info("{} / {}: pass planned as {} shard(s)", released.getModel(), released.getCheckpoint(), planned.size());
    }

    private void runShard(PassShard shard) throws Exception {
        CheckpointRunner.ShardOutcome outcome = runner.runShard(shard);
        if (outcome.skipped()) {
            skipped.incrementAndGet();
        } else if (outcome.summary() != null) {
            completed.incrementAndGet();
        }
        if (outcome.skipped() || outcome.summary() != null) {
            deleteDownloaded(shard.getDownloaded(), shard.getFolder(), shard.getModel(), shard.getCheckpoint());
        }
    }

    private static boolean fenced(Throwable t) {
        for (; t != null; t = t.getCause()) {
            if (t instanceof org.apache.kafka.common.errors.ProducerFencedException
                    || t instanceof org.apache.kafka.common.errors.InvalidProducerEpochException) {
                return true;
            }
        }
        return false;
    }

    private void sleepPolling(Duration duration) {
        long end = System.nanoTime() + duration.toNanos();
        while (running && System.nanoTime() < end) {
            consumer.pause(consumer.assignment());
            rewind(consumer.poll(Duration.ofMillis(200)));
            lastPollNanos = System.nanoTime();
        }
    }

    /** A partition assigned during a poll is not paused yet and may return a record: leave it for later. */
    private void rewind(Iterable<ConsumerRecord<byte[], byte[]>> records) {
        Map<TopicPartition, Long> first = new java.util.HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
        }
        first.forEach(consumer::seek);
    }

    private void commit(TopicPartition tp, long offset) {
        consumer.commitSync(Map.of(tp, new OffsetAndMetadata(offset + 1)));
    }

    private void deleteDownloaded(boolean downloaded, String folderName, String model, String checkpoint) {
        if (!downloaded || keepFiles || !Files.isDirectory(Path.of(folderName))) {
            return;
        }
        Path folder = Path.of(folderName);
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
            log.info("deleted the downloaded files of {} / {} ({}); --keep-files keeps them", model, checkpoint, folder);
        } catch (IOException e) {
            log.warn("could not delete the downloaded files in {}: {}", folder, e.getMessage());
        }
    }

    private void deadLetter(ConsumerRecord<byte[], byte[]> record, Throwable cause) {
        DeadLetter letter = new DeadLetter(ActivationProducer.STAGE, record.topic(), record.partition(), record.offset(),
                record.key() == null ? null : ByteBuffer.wrap(record.key()),
                record.value() == null ? null : ByteBuffer.wrap(record.value()),
                cause.getClass().getName(), cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage(),
                1, Instant.now());
        // The key goes as it came (raw bytes): the dead letter stays on the failed record's partition key.
        try (KafkaProducer<byte[], SpecificRecord> producer = new KafkaProducer<>(clients.producer(null),
                new ByteArraySerializer(), new AvroSerializer<>(clients.registry(), false))) {
            producer.send(new ProducerRecord<>(Topics.deadLetter(record.topic()), record.key(), letter)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot write a dead letter for " + record.topic() + " record " + record.partition() + "/"
                    + record.offset() + ": " + e.getMessage(), e);
        }
    }

    /** Why it is not ready (null when it is): polling stalled for {@code maxSilence}, or stopped. */
    public String notReady(Duration maxSilence) {
        if (!running) {
            return "stopped";
        }
        long silent = System.nanoTime() - lastPollNanos;
        return silent > maxSilence.toNanos() ? "no poll of the checkpoints topic for " + silent / 1_000_000_000 + " s" : null;
    }

        public long completed() {
        return completed.get();
    }

    public long skipped() {
        return skipped.get();
    }

    public long failed() {
        return failed.get();
    }

    /**
     * Stops at once, safe from any thread: a pass in progress is abandoned, its work uncommitted, and
     * continued from its last snapshot by whichever producer takes the record next.
     */
    public void stop() {
        running = false;
        consumer.wakeup();
    }

    @Override
    public void close() {
        passes.shutdownNow();
        consumer.close(Duration.ofSeconds(5));
    }
}
