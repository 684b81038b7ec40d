package io.neuronexplainer.runtime.test;

import io.neuronexplainer.runtime.KafkaClients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;

/** Reads a topic from the start as a read_committed consumer would, for assertions. */
public final class CommittedRecords {
    private CommittedRecords() {}

    /**
     * Polls until at least {@code atLeast} records arrived (or {@code timeout} passed), then one
     * more second, so records beyond the expected count (duplicates) are seen too.
     */
    public static <K, V> List<ConsumerRecord<K, V>> read(KafkaClients clients, String topic, Deserializer<K> keys, Deserializer<V> values,
                                                  int atLeast, Duration timeout) {
        Map<String, Object> config = clients.consumer("reader-" + UUID.randomUUID());
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<K, V>> records = new ArrayList<>();
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(config, keys, values)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            long extraUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, extraUntil)) {
                consumer.poll(Duration.ofMillis(100)).forEach(records::add);
                if (records.size() >= atLeast && extraUntil == Long.MAX_VALUE) {
                    extraUntil = System.nanoTime() + Duration.ofSeconds(1).toNanos();
                }
            }
        }
        return records;
    }
}
