package io.neuronexplainer.bench.chaos;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Records no stage can decode (raw bytes, not the Confluent wire format: the first byte is not
 * the magic 0), written with a plain producer into every topic a stage consumes, remembered by
 * where they landed so that each dead letter can be traced to one of them.
 */
final class PoisonRecords {
    /**
     * Which stages read which topic (docs/architecture.md, the topic table's "read by"): each
     * reader dead-letters each injected record once, so a topic read by two stages yields two
     * dead letters per record.
     */
    static final Map<String, List<String>> READERS = readers();

    /** One injected record: where it is and its bytes. */
    record Injected(String topic, int partition, long offset, byte[] key, byte[] value) {}

    private final List<Injected> injected = Collections.synchronizedList(new ArrayList<>());

    private static Map<String, List<String>> readers() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put(Topics.NEURON_ACTIVATIONS, List.of("explainer-worker", "score-aggregator"));
        m.put(Topics.SIMULATION_REQUESTS, List.of("simulator-worker"));
        m.put(Topics.NEURON_SIMULATIONS, List.of("score-aggregator"));
        return Collections.unmodifiableMap(m);
    }

    /** The dead letters {@code perTopic} records in each consumed topic must cause, one per record and reader. */
    static int expectedDeadLetters(int perTopic) {
        return perTopic * READERS.values().stream().mapToInt(List::size).sum();
    }

    /** Writes {@code perTopic} undecodable records into each consumed topic and waits until the brokers have them all. */
    void inject(KafkaClients clients, int perTopic, long seed) throws InterruptedException, ExecutionException {
        SplittableRandom random = new SplittableRandom(seed);
        try (var producer = new KafkaProducer<>(clients.producer(null), new ByteArraySerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
            for (String topic : READERS.keySet()) {
                for (int i = 0; i < perTopic; i++) {
                    // A distinct key per record: neuron-activations is compacted, and keys must not collide.
                    byte[] key = ("chaos-poison " + topic + " " + i + " " + Long.toHexString(random.nextLong()))
                            .getBytes(StandardCharsets.UTF_8);
                    byte[] value = new byte[24 + random.nextInt(40)];
                    random.nextBytes(value);
                    value[0] = 1; // not the wire format's magic byte 0
                    ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, key, value);
                    records.add(record);
                    sent.add(producer.send(record));
                }
            }
            producer.flush();
            for (int i = 0; i < sent.size(); i++) {
                RecordMetadata m = sent.get(i).get();
                ProducerRecord<byte[], byte[]> r = records.get(i);
                injected.add(new Injected(r.topic(), m.partition(), m.offset(), r.key(), r.value()));
            }
        }
    }

    /** The records injected so far. */
    List<Injected> injected() {
        synchronized (injected) {
            return List.copyOf(injected);
        }
    }
}
