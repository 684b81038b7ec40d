package io.neuronexplainer.runtime.worker;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The identities a worker group has already produced, per input partition, so an input record
 * delivered again (a producer re-run, a replayed topic) makes no second record of one identity.
 *
 * <p>Hand-written because Kafka's exactly-once covers one delivery of one record (its outputs
 * and offset commit together) but cannot tell that a new record at a later offset is the same
 * work again. Each identity produced is a marker (key = identity, value = where its input was)
 * in the compacted topic {@link Topics#processed}, written in the transaction that commits the
 * outputs, to the partition numbered like the input's. Only the owner of input partition p
 * writes marker partition p, and a transaction holding markers of p also holds offsets of p:
 * once the consumer returns records of p, its committed offset is stable, so no transaction
 * with markers of p is open and reading marker partition p to its end (read_committed) gives
 * every identity committed for p, across kill -9 and rebalances. A tombstone for an identity
 * lets it be produced again.
 */
final class ProcessedIdentities implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProcessedIdentities.class);
    private static final Duration LOAD_TIMEOUT = Duration.ofMinutes(2);

    private final String topic;
    private final KafkaConsumer<byte[], byte[]> reader;
    private final Map<Integer, Set<String>> byPartition = new HashMap<>();

    private ProcessedIdentities(String topic, KafkaConsumer<byte[], byte[]> reader) {
        this.topic = topic;
        this.reader = reader;
    }

    /** Creates the marker topic of {@code groupId} if missing (as many partitions as the input) and opens its reader. */
    static ProcessedIdentities open(KafkaClients clients, String inputTopic, String groupId, String clientId) {
        String topic = Topics.processed(groupId);
        try (Admin admin = Admin.create(clients.admin())) {
            createTopic(admin, inputTopic, topic, KafkaClients.CONNECT_TIMEOUT_MS);
        }
        Map<String, Object> config = clients.readerToEnd(clientId);
        return new ProcessedIdentities(topic, new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer()));
    }

    /**
     * Creates {@code markerTopic}, compacted, with the input topic's partition count, or adds
     * partitions to an existing one that has fewer (the input grew).
     */
    static void createTopic(Admin admin, String inputTopic, String markerTopic, long timeoutMs) {
        try {
            int partitions = describe(admin, inputTopic, timeoutMs)
                    .orElseThrow(() -> new IllegalStateException("input topic " + inputTopic + " does not exist; create the topics first"))
                    .partitions().size();
            Optional<TopicDescription> existing = describe(admin, markerTopic, timeoutMs);
            if (existing.isEmpty()) {
                NewTopic spec = new NewTopic(markerTopic, Optional.of(partitions), Optional.empty())
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT));
                try {
                    admin.createTopics(List.of(spec)).all().get(timeoutMs, TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e; // another instance of the group creating it at the same time is fine
                    }
                }
                Topics.awaitLeaders(admin, List.of(markerTopic), partitions, timeoutMs);
            } else if (existing.get().partitions().size() < partitions) {
                log.warn("{} has {} partitions but {} has {}: adding partitions", markerTopic,
                        existing.get().partitions().size(), inputTopic, partitions);
                admin.createPartitions(Map.of(markerTopic, NewPartitions.increaseTo(partitions)))
                        .all().get(timeoutMs, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topic " + markerTopic, e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new IllegalStateException("cannot create topic " + markerTopic + ": " + cause.getMessage(), cause);
        }
    }

    private static Optional<TopicDescription> describe(Admin admin, String topic, long timeoutMs)
            throws InterruptedException, ExecutionException, TimeoutException {
        try {
            return Optional.of(admin.describeTopics(List.of(topic)).allTopicNames().get(timeoutMs, TimeUnit.MILLISECONDS).get(topic));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return Optional.empty();
            }
            throw e;
        }
    }

    String topic() {
        return topic;
    }

    boolean isLoaded(int partition) {
        return byPartition.containsKey(partition);
    }

    /** Reads the markers of these input partitions from the beginning to the end of their committed data. */
    void load(Collection<Integer> partitions) {
        long start = System.nanoTime();
        List<TopicPartition> parts = new ArrayList<>();
        Map<Integer, Set<String>> loaded = new HashMap<>();
        for (int p : partitions) {
            parts.add(new TopicPartition(topic, p));
            loaded.put(p, new HashSet<>());
        }
        reader.assign(parts);
        reader.seekToBeginning(parts);
        Map<TopicPartition, Long> end = new HashMap<>(reader.endOffsets(parts));
        end.entrySet().removeIf(e -> reader.position(e.getKey()) >= e.getValue());
        long deadline = System.nanoTime() + LOAD_TIMEOUT.toNanos();
        while (!end.isEmpty()) {
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(100))) {
                if (r.key() == null) {
                    continue;
                }
                String identity = new String(r.key(), StandardCharsets.UTF_8);
                if (r.value() == null) {
                    loaded.get(r.partition()).remove(identity);
                } else {
                    loaded.get(r.partition()).add(identity);
                }
            }
            end.entrySet().removeIf(e -> reader.position(e.getKey()) >= e.getValue());
            if (!end.isEmpty() && System.nanoTime() > deadline) {
                throw new IllegalStateException("cannot read " + topic + " partitions " + end.keySet() + " to their end within "
                        + LOAD_TIMEOUT.toSeconds() + " s");
            }
        }
        reader.assign(List.of());
        byPartition.putAll(loaded);
        log.info("{}: {} identities of partitions {} read in {} ms", topic, loaded.values().stream().mapToInt(Set::size).sum(),
                partitions, (System.nanoTime() - start) / 1_000_000);
    }

    boolean contains(int partition, String identity) {
        Set<String> ids = byPartition.get(partition);
        if (ids == null) {
            throw new IllegalStateException(topic + " partition " + partition + " was not read before its input was processed");
        }
        return ids.contains(identity);
    }

    /** Identities whose markers just committed. */
    void addAll(int partition, Collection<String> identities) {
        Set<String> ids = byPartition.get(partition);
        if (ids != null) {
            ids.addAll(identities);
        }
    }

    /** The partition is no longer this instance's: its next owner reads the markers again. */
    void drop(int partition) {
        byPartition.remove(partition);
    }

    /** The marker of {@code identity}, for the transaction that commits its outputs. */
    ProducerRecord<byte[], byte[]> marker(int partition, String identity, String source) {
        return new ProducerRecord<>(topic, partition, identity.getBytes(StandardCharsets.UTF_8), source.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        try {
            reader.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        } catch (RuntimeException e) {
            log.warn("{}: closing the reader: {}", topic, e.toString());
        }
    }
}
