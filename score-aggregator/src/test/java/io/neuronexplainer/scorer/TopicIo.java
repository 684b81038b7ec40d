package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Producing test records and reading whole topics (read_committed) for the scorer's tests. */
final class TopicIo {
    private TopicIo() {}

    static void createTopics(KafkaClients clients, int partitions) throws Exception {
        try (Admin admin = Admin.create(clients.admin())) {
            Topics.create(admin, partitions, (short) -1, 30_000);
        }
    }

    static KafkaProducer<SpecificRecord, SpecificRecord> producer(KafkaClients clients) {
        return new KafkaProducer<>(clients.producer(null), new AvroSerializer<>(clients.registry(), true),
                new AvroSerializer<SpecificRecord>(clients.registry(), false));
    }

    static void send(KafkaClients clients, String topic, SpecificRecord key, SpecificRecord value) throws Exception {
        try (var p = producer(clients)) {
            p.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        }
    }

    /** Sends a neuron's activations under their key (neuron and run). */
    static void sendActivations(KafkaClients clients, NeuronActivations activations) throws Exception {
        send(clients, Topics.NEURON_ACTIVATIONS, Identities.activationsKey(activations), activations);
    }

    /** Every committed record of the topic, from the beginning to its current end. */
    static <V> List<V> readAll(KafkaClients clients, String topic, Class<V> type) {
        Map<String, Object> config = new HashMap<>(clients.consumer("unused"));
        config.remove("group.id");
        @SuppressWarnings({"unchecked", "rawtypes"})
        AvroDeserializer<V> de = (AvroDeserializer<V>) AvroDeserializer.of(clients.registry(), (Class) type);
        List<V> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo p : c.partitionsFor(topic)) {
                parts.add(new TopicPartition(topic, p.partition()));
            }
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = new HashMap<>(c.endOffsets(parts));
            end.entrySet().removeIf(e -> c.position(e.getKey()) >= e.getValue());
            while (!end.isEmpty()) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.add(de.deserialize(topic, r.value()));
                }
                end.entrySet().removeIf(e -> c.position(e.getKey()) >= e.getValue());
            }
        }
        return out;
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (org.apache.kafka.streams.errors.InvalidStateStoreException e) {
                // rebalancing: ask again
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
