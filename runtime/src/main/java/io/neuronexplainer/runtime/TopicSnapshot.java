package io.neuronexplainer.runtime;

import io.neuronexplainer.schemas.AvroDeserializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * Every committed record of a small topic, from its beginning to its end as of now
 * (read_committed: the end is the last stable offset). For state a service rebuilds at start
 * from a compacted topic, such as the checkpoints already released or the runs already completed.
 */
public final class TopicSnapshot {
    private static final long READ_TIMEOUT_NANOS = 60_000_000_000L;

    private TopicSnapshot() {}

    public static <K extends SpecificRecord, V extends SpecificRecord> List<ConsumerRecord<K, V>> read(
            KafkaClients clients, String topic, Class<K> keyType, Class<V> valueType) {
        List<ConsumerRecord<K, V>> records = new ArrayList<>();
        Map<String, Object> config = clients.readerToEnd("snapshot-" + UUID.randomUUID());
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(config,
                AvroDeserializer.of(clients.registry(), keyType), AvroDeserializer.of(clients.registry(), valueType))) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + READ_TIMEOUT_NANOS;
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new KafkaClients.UnreachableException("could not read topic " + topic + " to its end in "
                            + READ_TIMEOUT_NANOS / 1_000_000_000L + " s");
                }
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }
}
