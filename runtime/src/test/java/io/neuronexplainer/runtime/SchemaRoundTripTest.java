package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.Judgement;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.RegistryClient;
import io.neuronexplainer.schemas.ScoreKey;
import io.neuronexplainer.schemas.SimulatedWindow;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.schemas.WindowKind;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every schema through a real broker and the real registry, in the Confluent wire format. */
class SchemaRoundTripTest {
    static TestKafka kafka;
    static KafkaClients clients;

    @BeforeAll
    static void start() throws Exception {
        kafka = TestKafka.start(1);
        clients = kafka.clients();
        try (Admin admin = Admin.create(clients.admin())) {
            Topics.create(admin, 3, (short) 1, 30_000);
            Topics.create(admin, 3, (short) 1, 30_000); // idempotent: the second call changes nothing
        }
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    @Test
    void topicsExistWithTheirCleanupPolicies() throws Exception {
        try (Admin admin = Admin.create(clients.admin())) {
            Set<String> names = admin.listTopics().names().get();
            for (Topics.Spec spec : Topics.all()) {
                assertTrue(names.contains(spec.name()), spec.name());
            }
            ConfigResource scores = new ConfigResource(ConfigResource.Type.TOPIC, Topics.NEURON_SCORES);
            ConfigResource explanations = new ConfigResource(ConfigResource.Type.TOPIC, Topics.NEURON_EXPLANATIONS);
            var configs = admin.describeConfigs(List.of(scores, explanations)).all().get();
            assertEquals("compact", configs.get(scores).get("cleanup.policy").value());
            assertEquals("delete", configs.get(explanations).get("cleanup.policy").value());
            assertEquals(3, admin.describeTopics(List.of(Topics.NEURON_ACTIVATIONS)).allTopicNames().get()
                    .get(Topics.NEURON_ACTIVATIONS).partitions().size());
        }
    }

    @Test
    void aWriteThatFailsPartWayLeavesNothingInTheNextRecord() {
        NeuronKey key = SampleRecords.key(3, 18);
        NeuronActivations good = SampleRecords.activations(key);
        // A null token text fails the write after the neuron and the first window's index are encoded.
        NeuronActivations bad = NeuronActivations.newBuilder(good).setExplanationWindows(List.of(
                new io.neuronexplainer.schemas.ActivationWindow(0L, io.neuronexplainer.schemas.WindowKind.TOP,
                        Arrays.asList(" The", null, " sat"), List.of(383, 3797, 3332), List.of(0f, 1f, 2f), 2f)))
                .build();
        try (var serializer = new AvroSerializer<NeuronActivations>(clients.registry(), false)) {
            var reader = AvroDeserializer.of(clients.registry(), NeuronActivations.class);
            byte[] before = serializer.serialize(Topics.NEURON_ACTIVATIONS, good);
            org.junit.jupiter.api.Assertions.assertThrows(org.apache.kafka.common.errors.SerializationException.class,
                    () -> serializer.serialize(Topics.NEURON_ACTIVATIONS, bad));
            byte[] after = serializer.serialize(Topics.NEURON_ACTIVATIONS, good);
            assertArrayEquals(before, after);
            assertEquals(good, reader.deserialize(Topics.NEURON_ACTIVATIONS, after));
        }
    }

    @Test
    void primitiveArraysAreWrittenAsBoxedListsAndSharedOnesInSizedBlocks() throws Exception {
        // The serializer writes Avro's primitive arrays and our views without boxing (same bytes), and copies a
        // shared array's bytes encoded once, in one block with its byte size: the same record back,
        // and a reader skips the array in one step.
        Schema window = io.neuronexplainer.schemas.ActivationWindow.getClassSchema();
        var ids = new org.apache.avro.generic.PrimitivesArrays.IntArray(3, window.getField("token_ids").schema());
        var values = new org.apache.avro.generic.PrimitivesArrays.FloatArray(3, window.getField("activations").schema());
        int[] idValues = {383, -7, Integer.MAX_VALUE};
        float[] floatValues = {0f, -1.5f, Float.NaN};
        for (int i = 0; i < 3; i++) {
            ids.add(i, idValues[i]);
            values.add(i, floatValues[i]);
        }
        NeuronActivations boxed = NeuronActivations.newBuilder(SampleRecords.activations(SampleRecords.key(1, 2)))
                .setScoringTopWindows(List.of(new io.neuronexplainer.schemas.ActivationWindow(4L,
                        io.neuronexplainer.schemas.WindowKind.TOP, List.of(" a", "b", "\u00e9"), List.of(383, -7, Integer.MAX_VALUE),
                        List.of(0f, -1.5f, Float.NaN), 1f))).build();
        NeuronActivations unboxed = NeuronActivations.newBuilder(boxed)
                .setScoringTopWindows(List.of(new io.neuronexplainer.schemas.ActivationWindow(4L,
                        io.neuronexplainer.schemas.WindowKind.TOP, List.of(" a", "b", "\u00e9"), ids, values, 1f))).build();
        NeuronActivations shared = NeuronActivations.newBuilder(boxed)
                .setScoringTopWindows(List.of(new io.neuronexplainer.schemas.ActivationWindow(4L,
                        io.neuronexplainer.schemas.WindowKind.TOP,
                        new io.neuronexplainer.schemas.SharedAvroArray<>(List.of(" a", "b", "\u00e9")),
                        new io.neuronexplainer.schemas.SharedAvroArray<>(ids), values, 1f))).build();
        // Views over arrays the producer already holds: the maxima side by side from the second float.
        NeuronActivations views = NeuronActivations.newBuilder(boxed)
                .setScoringTopWindows(List.of(new io.neuronexplainer.schemas.ActivationWindow(4L,
                        io.neuronexplainer.schemas.WindowKind.TOP, List.of(" a", "b", "\u00e9"), ids,
                        new io.neuronexplainer.schemas.FloatArrayView(floatValues), 1f)))
                .setRandomWindowMaxima(new io.neuronexplainer.schemas.WindowMaxima(new long[] {40, 41},
                        new float[] {9f, 0.1f, 0.3f, 9f}, 1)).build();
        assertEquals(boxed.getRandomWindowMaxima(), views.getRandomWindowMaxima());
        try (var serializer = new AvroSerializer<NeuronActivations>(clients.registry(), false)) {
            byte[] fromBoxed = serializer.serialize(Topics.NEURON_ACTIVATIONS, boxed);
            byte[] fromUnboxed = serializer.serialize(Topics.NEURON_ACTIVATIONS, unboxed);
            assertArrayEquals(fromBoxed, fromUnboxed);
            assertArrayEquals(fromBoxed, serializer.serialize(Topics.NEURON_ACTIVATIONS, views));
            byte[] fromShared = serializer.serialize(Topics.NEURON_ACTIVATIONS, shared);
            assertArrayEquals(fromShared, serializer.serialize(Topics.NEURON_ACTIVATIONS, shared), "its cached bytes");
            var reader = AvroDeserializer.of(clients.registry(), NeuronActivations.class);
            assertEquals(boxed.toString(), reader.deserialize(Topics.NEURON_ACTIVATIONS, fromShared).toString());
            var read = reader.deserialize(Topics.NEURON_ACTIVATIONS, fromUnboxed).getScoringTopWindows().get(0);
            assertEquals(List.of(383, -7, Integer.MAX_VALUE), List.copyOf(read.getTokenIds()));
            assertEquals(List.of(0f, -1.5f, Float.NaN), List.copyOf(read.getActivations()));

            // The shared texts: one block of 3 items and 8 bytes (zig-zag -3 and 8), the items, the end; skipped whole.
            byte[] texts = {5, 16, 4, ' ', 'a', 2, 'b', 4, (byte) 0xC3, (byte) 0xA9, 0};
            int at = -1;
            for (int i = 0; at < 0 && i + texts.length <= fromShared.length; i++) {
                if (Arrays.equals(fromShared, i, i + texts.length, texts, 0, texts.length)) {
                    at = i;
                }
            }
            assertTrue(at > 0, "texts in one block with their byte size: " + Arrays.toString(fromShared));
            assertEquals(0, DecoderFactory.get().binaryDecoder(fromShared, at, fromShared.length - at, null).skipArray(),
                    "skipped in one step");
        }
    }

    @Test
    void simulationsInTheirOwnSchemaAreReadUnboxedAsAvroReadsThem() throws Exception {
        // AvroDeserializer reads Simulations written in their own schema by hand (SimulationReader);
        // every field must come back as Avro's own reader gives it, whatever its value.
        Random random = new Random(11);
        List<String> texts = List.of("", " cat", "\u00e9t\u00e9 \ud83d\ude00", "a\"b\\c\n", "x".repeat(300));
        float[] specials = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, -1.5e-30f, 10f};
        var avro = new SpecificDatumReader<Simulation>(
                Simulation.class);
        // A registry client of its own, as another process has: the writer's schema is parsed from the registry's text.
        var reader = AvroDeserializer.of(new RegistryClient(clients.registryUrl(), Duration.ofSeconds(10)),
                Simulation.class);
        try (var serializer = new AvroSerializer<Simulation>(clients.registry(), false)) {
            for (int r = 0; r < 300; r++) {
                List<SimulatedWindow> windows = new ArrayList<>();
                for (int w = random.nextInt(13); w > 0; w--) {
                    List<Float> predicted = new ArrayList<>();
                    for (int t = random.nextInt(70); t > 0; t--) {
                        predicted.add(random.nextInt(5) == 0 ? specials[random.nextInt(specials.length)] : random.nextFloat() * 10);
                    }
                    windows.add(new SimulatedWindow(random.nextLong(),
                            WindowKind.values()[random.nextInt(2)], predicted));
                }
                List<Judgement> judgements = new ArrayList<>();
                for (int j = random.nextInt(3) == 0 ? random.nextInt(4) : 0; j > 0; j--) {
                    List<Integer> marked = new ArrayList<>();
                    for (int m = random.nextInt(4); m > 0; m--) {
                        marked.add(random.nextInt(200) - 100);
                    }
                    judgements.add(new Judgement(random.nextLong(), marked, random.nextBoolean(),
                            random.nextBoolean() ? null : random.nextDouble()));
                }
                var sent = new Simulation(
                        new NeuronKey(texts.get(random.nextInt(texts.size())), "step-" + r, random.nextInt(), -random.nextInt(50)),
                        texts.get(random.nextInt(texts.size())), texts.get(random.nextInt(texts.size())), "m" + r, "model",
                        windows, random.nextInt(), random.nextInt(), Instant.ofEpochMilli(random.nextLong() >> 20),
                        texts.get(random.nextInt(texts.size())), random.nextBoolean() ? null : texts.get(random.nextInt(texts.size())),
                        random.nextInt(), texts.get(random.nextInt(texts.size())), random.nextBoolean() ? "simulation" : "fuzzing",
                        judgements);
                byte[] bytes = serializer.serialize(Topics.NEURON_SIMULATIONS, sent);
                if (r % 2 == 1) { // arrays in blocks of a few items with their byte sizes, as Avro's blocking encoder writes them
                    var out = new ByteArrayOutputStream();
                    out.write(bytes, 0, 5);
                    var blocks = new EncoderFactory().configureBlockSize(64).blockingBinaryEncoder(out, null);
                    new SpecificDatumWriter<>(Simulation.class).write(sent, blocks);
                    blocks.flush();
                    bytes = out.toByteArray();
                }
                var read = reader.deserialize(Topics.NEURON_SIMULATIONS, bytes);
                var expected = avro.read(null, DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null));
                assertEquals(expected, read, "record " + r);
                assertEquals(sent.toString(), read.toString(), "record " + r);
                // Avro's reader gives its own array type; the hand-written one an ArrayList.
                assertTrue(read.getWindows() instanceof ArrayList, "read by SimulationReader");
            }
        }
    }

    @Test
    void everySchemaRoundTripsAndIsResolvableById() throws Exception {
        NeuronKey key = SampleRecords.key(3, 17);
        List<ProducerRecord<SpecificRecord, SpecificRecord>> sent = List.of(
                new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, SampleRecords.activationsKey(key), SampleRecords.activations(key)),
                new ProducerRecord<>(Topics.NEURON_EXPLANATIONS, key, SampleRecords.explanation(key)),
                new ProducerRecord<>(Topics.SIMULATION_REQUESTS, key, SampleRecords.simulationRequest(key)),
                new ProducerRecord<>(Topics.NEURON_SIMULATIONS, key, SampleRecords.simulation(key)),
                new ProducerRecord<>(Topics.NEURON_SCORES, new ScoreKey(key, "score-1"), SampleRecords.score(key)),
                new ProducerRecord<>(Topics.CHECKPOINT_RUNS, SampleRecords.runKey(), SampleRecords.run()),
                new ProducerRecord<>(Topics.deadLetter(Topics.NEURON_ACTIVATIONS), key, SampleRecords.deadLetter()));
        RegistryClient registry = clients.registry();
        try (var producer = new KafkaProducer<SpecificRecord, SpecificRecord>(clients.producer(null),
                new AvroSerializer<>(registry, true), new AvroSerializer<>(registry, false))) {
            for (var record : sent) {
                producer.send(record).get();
            }
        }
        HttpClient http = HttpClient.newHttpClient();
        ObjectMapper json = new ObjectMapper();
        for (var record : sent) {
            List<ConsumerRecord<byte[], byte[]>> raw = readAll(record.topic());
            assertEquals(1, raw.size(), record.topic());
            byte[] value = raw.get(0).value();
            assertEquals(0, value[0], "magic byte on " + record.topic());
            int id = ByteBuffer.wrap(value, 1, 4).getInt();
            // The registry itself, not our cache, must know the id as this very schema.
            var answer = http.send(HttpRequest.newBuilder(URI.create(clients.registryUrl() + "/schemas/ids/" + id))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode());
            Schema fromRegistry = new Schema.Parser().parse(json.readTree(answer.body()).path("schema").asText());
            assertEquals(record.value().getSchema(), fromRegistry, record.topic());

            var keyReader = AvroDeserializer.of(registry, record.key().getClass().asSubclass(SpecificRecord.class));
            var valueReader = AvroDeserializer.of(registry, record.value().getClass().asSubclass(SpecificRecord.class));
            assertEquals(record.key(), keyReader.deserialize(record.topic(), raw.get(0).key()));
            assertEquals(record.value(), valueReader.deserialize(record.topic(), value));
        }
        assertEquals("BACKWARD", registry.compatibility(Topics.NEURON_SCORES + "-value"));
        assertArrayEquals(new byte[] {9, 9, 9}, SampleRecords.deadLetter().getValue().array());
    }

    static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        Map<String, Object> config = clients.consumer("reader-" + topic + "-" + System.nanoTime());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 15_000;
            while (out.isEmpty() && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            consumer.poll(Duration.ofMillis(300)).forEach(out::add);
        }
        return out;
    }
}
