package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.test.CommittedRecords;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.RegistryClient;
import io.neuronexplainer.schemas.SchemaRegistryException;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schemas are kept with the data: records of every topic written before the embedded broker and
 * registry stop are read back and decoded after both start again on the same folder, by clients
 * that never saw the schemas (issue 11: before, every such record became a dead letter with
 * "refused to fetch schema id 3: HTTP 404").
 */
class RegistryRestartTest {

    /** A topic, its key and value classes, and the records written to it. */
    record Sample(String topic, Class<? extends SpecificRecord> keyType, Class<? extends SpecificRecord> valueType,
                  List<SpecificRecord[]> records) {}

    @Test
    void everyRecordOfEveryTopicDecodesAfterBrokerAndRegistryRestart(@TempDir Path dir) throws Exception {
        List<NeuronKey> keys = List.of(SampleRecords.key(0, 1), SampleRecords.key(3, 7), SampleRecords.key(5, 511));
        List<Sample> samples = List.of(
                neuronSample(Topics.NEURON_ACTIVATIONS, NeuronActivations.class, keys, SampleRecords::activations),
                neuronSample(Topics.NEURON_EXPLANATIONS, Explanation.class, keys, SampleRecords::explanation),
                neuronSample(Topics.SIMULATION_REQUESTS, SimulationRequest.class, keys, SampleRecords::simulationRequest),
                neuronSample(Topics.NEURON_SIMULATIONS, Simulation.class, keys, SampleRecords::simulation),
                neuronSample(Topics.NEURON_SCORES, NeuronScore.class, keys, SampleRecords::score),
                new Sample(Topics.CHECKPOINT_RUNS, CheckpointRunKey.class, CheckpointRun.class,
                        List.<SpecificRecord[]>of(new SpecificRecord[] {SampleRecords.runKey(), SampleRecords.run()})),
                new Sample(Topics.deadLetter(Topics.NEURON_ACTIVATIONS), NeuronKey.class, DeadLetter.class,
                        List.<SpecificRecord[]>of(new SpecificRecord[] {keys.get(0), SampleRecords.deadLetter()})));

        Map<String, List<byte[][]>> written = new LinkedHashMap<>();
        List<String> subjectsBefore;
        try (EmbeddedRuntime runtime = EmbeddedRuntime.start(dir, 0, 0)) {
            KafkaClients clients = new KafkaClients(runtime.bootstrapServers(), runtime.registryUrl());
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 2, (short) 1, 30_000);
            }
            RegistryClient registry = new RegistryClient(runtime.registryUrl(), Duration.ofSeconds(10));
            try (var producer = new KafkaProducer<>(clients.producer("restart-test"), new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.initTransactions();
                producer.beginTransaction();
                for (Sample sample : samples) {
                    var keySerializer = new AvroSerializer<SpecificRecord>(registry, true);
                    var valueSerializer = new AvroSerializer<SpecificRecord>(registry, false);
                    for (SpecificRecord[] kv : sample.records()) {
                        byte[] key = keySerializer.serialize(sample.topic(), kv[0]);
                        byte[] value = valueSerializer.serialize(sample.topic(), kv[1]);
                        producer.send(new ProducerRecord<>(sample.topic(), key, value));
                        written.computeIfAbsent(sample.topic(), t -> new ArrayList<>()).add(new byte[][] {key, value});
                    }
                }
                producer.commitTransaction();
            }
            subjectsBefore = registry.subjects();
            assertEquals(samples.size() * 2, subjectsBefore.size(), subjectsBefore.toString());
        }
        assertTrue(Files.isDirectory(dir.resolve("registry")), "the registry's storage is under the data dir");

        try (EmbeddedRuntime runtime = EmbeddedRuntime.start(dir, 0, 0)) {
            KafkaClients clients = new KafkaClients(runtime.bootstrapServers(), runtime.registryUrl());
            // A client that has cached nothing: every schema id must come from the restarted registry.
            RegistryClient fresh = new RegistryClient(runtime.registryUrl(), Duration.ofSeconds(10));
            assertEquals(new HashSet<>(subjectsBefore), new HashSet<>(fresh.subjects()));
            for (Sample sample : samples) {
                List<byte[][]> expected = written.get(sample.topic());
                List<ConsumerRecord<byte[], byte[]>> read = CommittedRecords.read(clients, sample.topic(),
                        new ByteArrayDeserializer(), new ByteArrayDeserializer(), expected.size(), Duration.ofSeconds(30));
                assertEquals(expected.size(), read.size(), sample.topic());
                var keyReader = AvroDeserializer.of(fresh, sample.keyType());
                var valueReader = AvroDeserializer.of(fresh, sample.valueType());
                List<SpecificRecord> expectedValues = sample.records().stream().map(kv -> kv[1]).toList();
                List<SpecificRecord> decodedValues = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> r : read) {
                    byte[][] original = expected.stream().filter(w -> java.util.Arrays.equals(w[1], r.value())).findFirst()
                            .orElseThrow(() -> new AssertionError(sample.topic() + ": a record that was not written"));
                    assertArrayEquals(original[0], r.key(), sample.topic());
                    keyReader.deserialize(sample.topic(), r.key());
                    decodedValues.add(valueReader.deserialize(sample.topic(), r.value()));
                }
                assertEquals(new HashSet<>(expectedValues), new HashSet<>(decodedValues), sample.topic());
            }
            // The way the workers decode (serdes configured by class, the JVM-wide client of the URL) works too.
            Map<String, Object> config = clients.consumer("restart-reader-" + UUID.randomUUID());
            config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
            config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, AvroDeserializer.class);
            config.put(AvroDeserializer.READER_CLASS_CONFIG, NeuronActivations.class);
            List<Object> activations = new ArrayList<>();
            try (var consumer = new KafkaConsumer<Object, Object>(config)) {
                consumer.subscribe(List.of(Topics.NEURON_ACTIVATIONS));
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (activations.size() < keys.size() && System.nanoTime() < deadline) {
                    consumer.poll(Duration.ofMillis(200)).forEach(r -> activations.add(r.value()));
                }
            }
            assertEquals(new HashSet<>(keys.stream().map(SampleRecords::activations).toList()), new HashSet<>(activations));
        }
    }

    @Test
    void aRegistryLeftBehindByAKilledRunIsStoppedAndItsSchemasKept(@TempDir Path dir) throws Exception {
        Path storage = dir.resolve("registry");
        RegistryProcess orphan = RegistryProcess.start(0, dir.resolve("registry-1.log"), storage);
        try {
            int id = new RegistryClient(orphan.url(), Duration.ofSeconds(10))
                    .register("neuron-scores-value", NeuronScore.getClassSchema());
            // While the JVM that started it lives, a second start on the same storage leaves it alone (and fails on the lock).
            assertThrows(java.io.IOException.class, () -> RegistryProcess.start(0, dir.resolve("registry-2.log"), storage).close());
            assertEquals(List.of("neuron-scores-value"), new RegistryClient(orphan.url(), Duration.ofSeconds(10)).subjects());
            // Its starter killed with kill -9: the pid record names a JVM that is gone.
            Process gone = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-version").start();
            gone.waitFor();
            Path record = storage.resolve("registry.pid");
            String registryPid = Files.readString(record).trim().split(" ")[0];
            Files.writeString(record, registryPid + " " + gone.pid() + " 0");
            try (RegistryProcess next = RegistryProcess.start(0, dir.resolve("registry-3.log"), storage)) {
                assertEquals(NeuronScore.getClassSchema(), new RegistryClient(next.url(), Duration.ofSeconds(10)).byId(id));
                var stopped = new RegistryClient(orphan.url(), Duration.ofSeconds(2));
                assertThrows(SchemaRegistryException.class, stopped::subjects, "the orphan was stopped");
            }
        } finally {
            orphan.close();
        }
    }

    private static <V extends SpecificRecord> Sample neuronSample(String topic, Class<V> type, List<NeuronKey> keys,
                                                                   Function<NeuronKey, V> value) {
        List<SpecificRecord[]> records = new ArrayList<>();
        for (NeuronKey key : keys) {
            records.add(new SpecificRecord[] {key, value.apply(key)});
        }
        return new Sample(topic, NeuronKey.class, type, records);
    }
}
