package io.neuronexplainer.launcher.redrive;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.DeadLetter;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Re-publishes the dead letters of one dead-letter topic to their source topics, once: the
 * letters' original bytes and the group {@code redrive-<dlq topic>}'s new offsets (with what was
 * redriven past a letter left behind, {@link HandledOffsets}) are committed in one transaction,
 * so a second run, or a run after a crash mid-way, sends no letter twice.
 */
public final class DeadLetterRedrive {
    /** How long reading to the end may go without progress before giving up. */
    private static final Duration STALL_LIMIT = Duration.ofSeconds(60);

    private final KafkaClients clients;
    private final String dlqTopic;
    private final String filter;
    private final boolean dryRun;
    private final PrintStream out;

    /**
     * @param filter text the letter's error class or message must contain (ignoring case), or null for all
     */
    public DeadLetterRedrive(KafkaClients clients, String dlqTopic, String filter, boolean dryRun, PrintStream out) {
        this.clients = clients;
        this.dlqTopic = dlqTopic;
        this.filter = filter == null || filter.isEmpty() ? null : filter.toLowerCase(Locale.ROOT);
        this.dryRun = dryRun;
        this.out = out;
    }

    /** The consumer group (and transactional id) that remembers what was redriven from {@code dlqTopic}. */
    public static String groupOf(String dlqTopic) {
        return "redrive-" + dlqTopic;
    }

    /** What one run did, counted per letter read. */
    public record Summary(int letters, int redriven, int skipped, int notSelected, int alreadyRedriven, int left,
                         int unreadable) {}

    /** Reads the topic from the start to its current end, selects, sends and commits (unless a dry run). */
    public Summary run() throws Exception {
        String group = groupOf(dlqTopic);
        KafkaProducer<byte[], byte[]> producer = null;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(clients.consumer(group),
                new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            if (!dryRun) {
                producer = new KafkaProducer<>(clients.producer(group), new ByteArraySerializer(), new ByteArraySerializer());
                // Before reading the commits: a redrive of this topic still running is fenced now, so
                // its commit cannot land between our read and ours.
                producer.initTransactions();
            }
            List<TopicPartition> partitions = consumer.partitionsFor(dlqTopic).stream()
                    .map(p -> new TopicPartition(dlqTopic, p.partition())).sorted((a, b) -> a.partition() - b.partition()).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> starts = consumer.beginningOffsets(partitions);
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.copyOf(partitions));
            Map<TopicPartition, HandledOffsets> handled = new LinkedHashMap<>();
            for (TopicPartition tp : partitions) {
                HandledOffsets h = HandledOffsets.of(committed.get(tp), starts.get(tp));
                handled.put(tp, h);
                consumer.seek(tp, Math.max(h.next(), starts.get(tp)));
            }

            var reader = AvroDeserializer.of(clients.registry(), DeadLetter.class);
            List<ProducerRecord<byte[], byte[]>> toSend = new ArrayList<>();
            Map<TopicPartition, Long> lastSeen = new HashMap<>();
            Set<TopicPartition> full = new TreeSet<>((a, b) -> a.partition() - b.partition());
            int letters = 0, redriven = 0, skipped = 0, notSelected = 0, already = 0, left = 0, unreadable = 0;
            long lastProgress = System.nanoTime();
            while (!reachedEnd(consumer, partitions, ends)) {
                var batch = consumer.poll(Duration.ofMillis(200));
                if (!batch.isEmpty()) {
                    lastProgress = System.nanoTime();
                } else if (System.nanoTime() - lastProgress > STALL_LIMIT.toNanos()) {
                    throw new IllegalStateException("reading " + dlqTopic + " made no progress for "
                            + STALL_LIMIT.toSeconds() + " s; nothing was sent");
                }
                for (ConsumerRecord<byte[], byte[]> record : batch) {
                    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                    if (record.offset() >= ends.get(tp)) {
                        continue; // written after this run began: the next run's
                    }
                    HandledOffsets h = handled.get(tp);
                    // Offsets between two records read (transaction markers, aborted records) need no redrive.
                    long gapFrom = lastSeen.getOrDefault(tp, h.next());
                    lastSeen.put(tp, record.offset() + 1);
                    if (!full.contains(tp)) {
                        h.tryAdd(gapFrom, record.offset());
                    }
                    letters++;
                    if (h.contains(record.offset())) {
                        already++;
                        continue;
                    }
                    DeadLetter letter;
                    try {
                        letter = reader.deserialize(dlqTopic, record.value());
                    } catch (RuntimeException e) {
                        unreadable++;
                        out.printf("unreadable %s %d@%d: %s%n", dlqTopic, record.partition(), record.offset(), oneLine(e.getMessage()));
                        continue;
                    }
                    if (!selected(letter)) {
                        notSelected++;
                        continue;
                    }
                    if (full.contains(tp) || !h.tryAdd(record.offset(), record.offset() + 1)) {
                        // Too many letters left behind between redriven ones to remember in one commit.
                        full.add(tp);
                        left++;
                        continue;
                    }
                    if (letter.getValue() == null) {
                        skipped++;
                        out.printf("skip     %s  %s  no record bytes to re-publish%n", describe(letter), error(letter));
                        continue;
                    }
                    redriven++;
                    out.printf("%s %s  %s%n", dryRun ? "would redrive" : "redrive ", describe(letter), error(letter));
                    toSend.add(new ProducerRecord<>(letter.getSourceTopic(), bytes(letter.getKey()), bytes(letter.getValue())));
                }
            }
            for (TopicPartition tp : partitions) {
                if (!full.contains(tp)) {
                    // The tail after the last record read up to the end: markers only.
                    handled.get(tp).tryAdd(lastSeen.getOrDefault(tp, handled.get(tp).next()), consumer.position(tp));
                }
            }
            Summary summary = new Summary(letters, redriven, skipped, notSelected, already, left, unreadable);
            if (!dryRun && changed(handled, committed)) {
                checkSourceTopics(toSend);
                producer.beginTransaction();
                for (ProducerRecord<byte[], byte[]> record : toSend) {
                    producer.send(record);
                }
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                handled.forEach((tp, h) -> offsets.put(tp, h.toCommit()));
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                producer.commitTransaction();
            }
            return summary;
        } finally {
            if (producer != null) {
                producer.close(Duration.ofSeconds(10));
            }
        }
    }

    private static boolean reachedEnd(KafkaConsumer<?, ?> consumer, List<TopicPartition> partitions, Map<TopicPartition, Long> ends) {
        for (TopicPartition tp : partitions) {
            if (consumer.position(tp) < ends.get(tp)) {
                return false;
            }
        }
        return true;
    }

    private static boolean changed(Map<TopicPartition, HandledOffsets> handled, Map<TopicPartition, OffsetAndMetadata> committed) {
        for (var entry : handled.entrySet()) {
            if (!entry.getValue().toCommit().equals(committed.get(entry.getKey()))) {
                return true;
            }
        }
        return false;
    }

    private boolean selected(DeadLetter letter) {
        return filter == null
                || letter.getErrorMessage().toLowerCase(Locale.ROOT).contains(filter)
                || letter.getErrorClass().toLowerCase(Locale.ROOT).contains(filter);
    }

    /** Fails before anything is written when a letter's source topic is gone. */
    private void checkSourceTopics(List<ProducerRecord<byte[], byte[]>> records) throws Exception {
        Set<String> sources = new TreeSet<>();
        records.forEach(r -> sources.add(r.topic()));
        if (sources.isEmpty()) {
            return;
        }
        try (Admin admin = Admin.create(clients.admin())) {
            Set<String> existing = admin.listTopics().names().get(KafkaClients.CONNECT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            for (String source : sources) {
                if (!existing.contains(source)) {
                    throw new IllegalArgumentException("letters of " + dlqTopic + " name source topic " + source
                            + ", which does not exist; nothing was sent");
                }
            }
        }
    }

    private static String describe(DeadLetter letter) {
        return letter.getSourceTopic() + " " + letter.getSourcePartition() + "@" + letter.getSourceOffset() + "  " + letter.getStage();
    }

    private static String error(DeadLetter letter) {
        return letter.getErrorClass() + ": " + oneLine(letter.getErrorMessage());
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").trim();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }
}
