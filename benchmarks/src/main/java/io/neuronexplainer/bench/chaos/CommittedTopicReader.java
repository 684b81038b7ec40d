package io.neuronexplainer.bench.chaos;

import io.neuronexplainer.runtime.KafkaClients;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads topics from their first offset with read_committed, without a consumer group, handing
 * each record to a reader; a record the reader fails on (e.g. while the registry restarts and a
 * schema id is new) is read again at the next poll, so no record is skipped.
 */
final class CommittedTopicReader implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<TopicPartition> partitions = new ArrayList<>();
    private volatile RuntimeException lastFailure;

    CommittedTopicReader(KafkaClients clients, Collection<String> topics) {
        Map<String, Object> config = new HashMap<>(clients.consumer("unused"));
        config.remove(ConsumerConfig.GROUP_ID_CONFIG); // assigned, not subscribed: every record from the start
        config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
        this.consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        for (String topic : topics) {
            for (PartitionInfo p : consumer.partitionsFor(topic)) {
                partitions.add(new TopicPartition(p.topic(), p.partition()));
            }
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Reads the records committed since the last call, waiting at most {@code wait}; returns how many were read. */
    int poll(Duration wait, Consumer<ConsumerRecord<byte[], byte[]>> reader) {
        ConsumerRecords<byte[], byte[]> records;
        try {
            records = consumer.poll(wait);
        } catch (org.apache.kafka.common.errors.RetriableException e) {
            lastFailure = e;
            return 0;
        }
        int read = 0;
        for (TopicPartition tp : records.partitions()) {
            for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
                try {
                    reader.accept(r);
                    read++;
                } catch (RuntimeException e) {
                    lastFailure = e;
                    consumer.seek(tp, r.offset());
                    break;
                }
            }
        }
        return read;
    }

    /** Whether every partition is read up to its last stable offset (what read_committed can see now). */
    boolean caughtUp() {
        try {
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
            for (TopicPartition tp : partitions) {
                if (consumer.position(tp, Duration.ofSeconds(10)) < end.get(tp)) {
                    return false;
                }
            }
            return true;
        } catch (RuntimeException e) {
            lastFailure = e;
            return false;
        }
    }

    /** The last failure met while reading, for a report; null if none. */
    RuntimeException lastFailure() {
        return lastFailure;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
