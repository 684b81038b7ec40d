package io.neuronexplainer.producer;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.CheckpointKey;
import io.neuronexplainer.schemas.CheckpointReleased;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The producer as a service ({@code produce --follow}): consumes {@code checkpoints} in a consumer
 * group, so several instances share the released checkpoints, and runs each one once through a
 * {@link CheckpointRunner}. A checkpoint's offset is committed only after its run COMPLETED (or it
 * was skipped as already done, or dead-lettered as unreadable), so a killed instance's checkpoint is
 * run by the next owner of its partition. While a pass runs, the partitions are paused and the
 * consumer keeps polling, so a pass of hours never exceeds the group's poll interval.
 */
public final class CheckpointFollower implements AutoCloseable {
    public static final String GROUP = "activation-producer";
    private static final Logger log = LoggerFactory.getLogger(CheckpointFollower.class);
    private static final Duration RETRY_AFTER = Duration.ofSeconds(10);

    private final KafkaClients clients;
    private final CheckpointRunner runner;
    private final boolean keepFiles;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<CheckpointKey> keys;
    private final AvroDeserializer<CheckpointReleased> values;
    private final ExecutorService passes = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "producer-pass");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile boolean running = true;

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
        this.keys = AvroDeserializer.of(clients.registry(), CheckpointKey.class);
        this.values = AvroDeserializer.of(clients.registry(), CheckpointReleased.class);
    }

    /** Follows until {@link #stop()}; returns the number of checkpoints run to completion. */
    public long run() {
        consumer.subscribe(List.of(Topics.CHECKPOINTS), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                log.info("following checkpoints on partitions {}", partitions);
            }
        });
        log.info("following topic {} for released checkpoints", Topics.CHECKPOINTS);
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
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

    /** Runs one released checkpoint in the pass thread while this thread keeps the group membership alive. */
    private void handle(ConsumerRecord<byte[], byte[]> record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        CheckpointReleased released;
        try {
            released = values.deserialize(record.topic(), record.value());
            if (released == null) {
                commit(tp, record.offset());
                return;
            }
        } catch (RuntimeException e) {
            deadLetter(record, e);
            commit(tp, record.offset());
            return;
        }
        while (running) {
            consumer.pause(consumer.assignment());
            Future<CheckpointRunner.Outcome> pass = passes.submit(() -> runner.run(new CheckpointRunner.Checkpoint(
                    Path.of(released.getFolder()), Path.of(released.getTokenizer()), released.getModel(),
                    released.getCheckpoint(), released.getStep())));
            try {
                while (!pass.isDone()) {
                    consumer.pause(consumer.assignment()); // a rebalance may have assigned new partitions
                    rewind(consumer.poll(Duration.ofMillis(200)));
                }
                CheckpointRunner.Outcome outcome = pass.get();
                if (outcome.skipped()) {
                    skipped.incrementAndGet();
                } else {
                    completed.incrementAndGet();
                }
                deleteDownloaded(released);
                commit(tp, record.offset());
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof IllegalArgumentException) {
                    // The checkpoint itself cannot be run (unreadable weights, shapes that do not match): its own fault.
                    failed.incrementAndGet();
                    log.error("checkpoint {} / {} cannot be run: {}", released.getModel(), released.getCheckpoint(),
                            cause.getMessage());
                    deadLetter(record, cause);
                    commit(tp, record.offset());
                    return;
                }
                log.error("checkpoint {} / {} failed ({}); trying again in {} s", released.getModel(),
                        released.getCheckpoint(), cause == null ? e.getMessage() : cause.getMessage(), RETRY_AFTER.toSeconds());
                sleepPolling(RETRY_AFTER);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            } finally {
                consumer.resume(consumer.paused());
            }
        }
    }

    private void sleepPolling(Duration duration) {
        long end = System.nanoTime() + duration.toNanos();
        while (running && System.nanoTime() < end) {
            consumer.pause(consumer.assignment());
            rewind(consumer.poll(Duration.ofMillis(200)));
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

    private void deleteDownloaded(CheckpointReleased released) {
        if (!released.getDownloaded() || keepFiles) {
            return;
        }
        Path folder = Path.of(released.getFolder());
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
            log.info("deleted the downloaded files of {} / {} ({}); --keep-files keeps them", released.getModel(),
                    released.getCheckpoint(), folder);
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
        try (KafkaProducer<SpecificRecord, SpecificRecord> producer = new KafkaProducer<>(clients.producer(null),
                new AvroSerializer<>(clients.registry(), true), new AvroSerializer<>(clients.registry(), false))) {
            CheckpointKey key = null;
            try {
                key = record.key() == null ? null : keys.deserialize(record.topic(), record.key());
            } catch (RuntimeException undecodable) {
                // The key itself is bad: the dead letter keeps its raw bytes in the value.
            }
            producer.send(new ProducerRecord<>(Topics.deadLetter(Topics.CHECKPOINTS), key, letter)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot write a dead letter for checkpoint record " + record.partition() + "/"
                    + record.offset() + ": " + e.getMessage(), e);
        }
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

    /** Stops after the pass in progress (if any) ends; safe from any thread. */
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
