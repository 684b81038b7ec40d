package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.IncompatibleSchemaException;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.RegistryClient;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.SimulationRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificData;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Schema evolution under the registry's BACKWARD rule, with real Kafka and the real registry. */
class SchemaEvolutionTest {
    static final String TOPIC = "evolution-explanations";
    static TestKafka kafka;
    static KafkaClients clients;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        kafka = TestKafka.start(1);
        clients = kafka.clients();
        try (Admin admin = Admin.create(clients.admin())) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
        }
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    /** Explanation's schema with one more field appended. */
    static Schema explanationWith(String fieldJson) throws Exception {
        ObjectNode schema = (ObjectNode) JSON.readTree(Explanation.getClassSchema().toString());
        schema.withArray("fields").add(JSON.readTree(fieldJson));
        return new Schema.Parser().parse(schema.toString());
    }

    @Test
    void olderReaderReadsNewerWritersRecord() throws Exception {
        RegistryClient registry = clients.registry();
        NeuronKey key = SampleRecords.key(1, 2);
        Explanation v1 = SampleRecords.explanation(key);
        Schema v2 = explanationWith("{\"name\": \"temperature\", \"type\": \"double\", \"default\": 0.0}");

        // The newer writer: v1's data plus the new field, as a generic record of schema v2.
        GenericRecord newer = new GenericData.Record(v2);
        GenericRecord asGeneric = (GenericRecord) SpecificData.get().deepCopy(Explanation.getClassSchema(), v1);
        for (Schema.Field f : Explanation.getClassSchema().getFields()) {
            newer.put(f.name(), GenericData.get().deepCopy(f.schema(), asGeneric.get(f.name())));
        }
        newer.put("created_at", v1.getCreatedAt().toEpochMilli());
        newer.put("temperature", 0.7);

        // v1 first, so v2 is an evolution of the subject, checked by the registry.
        byte[] v1Bytes = new AvroSerializer<Explanation>(registry, false).serialize(TOPIC, v1);
        byte[] v2Bytes = new AvroSerializer<GenericRecord>(registry, false).serialize(TOPIC, newer);
        try (var producer = new KafkaProducer<>(clients.producer(null), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(TOPIC, v1Bytes)).get();
            producer.send(new ProducerRecord<>(TOPIC, v2Bytes)).get();
        }

        var olderReader = AvroDeserializer.of(registry, Explanation.class);
        List<byte[]> values = new java.util.ArrayList<>();
        try (var consumer = new KafkaConsumer<>(clients.consumer("evolution"), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.currentTimeMillis() + 15_000;
            while (values.size() < 2 && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
        }
        assertEquals(2, values.size());
        assertEquals(v1, olderReader.deserialize(TOPIC, values.get(0)));
        assertEquals(v1, olderReader.deserialize(TOPIC, values.get(1)), "v2's extra field is dropped, the rest read");
        // And the newer reader sees the new field.
        GenericRecord read = new AvroDeserializer<GenericRecord>(registry, v2).deserialize(TOPIC, values.get(0));
        assertEquals(0.0, read.get("temperature"), "default fills the field v1 lacked");
    }

    /** The schema as it was before the identity fields: the same without {@code fields}. */
    static Schema without(Schema schema, Set<String> fields) throws Exception {
        ObjectNode json = (ObjectNode) JSON.readTree(schema.toString());
        ArrayNode kept = JSON.createArrayNode();
        json.withArray("fields").forEach(f -> {
            if (!fields.contains(f.path("name").asText())) {
                kept.add(f);
            }
        });
        json.set("fields", kept);
        return new Schema.Parser().parse(json.toString());
    }

    @Test
    void theIdentityFieldsAreBackwardCompatibleAndReadAsTheirDefaultsFromOlderRecords() throws Exception {
        RegistryClient registry = clients.registry();
        Map<Schema, Set<String>> added = Map.of(
                Explanation.getClassSchema(), Set.of("run_id"),
                SimulationRequest.getClassSchema(), Set.of("run_id"),
                Simulation.getClassSchema(), Set.of("run_id"),
                NeuronScore.getClassSchema(), Set.of("run_id", "score_id", "scorer_kind", "carried_from"));
        for (var entry : added.entrySet()) {
            Schema current = entry.getKey();
            Schema older = without(current, entry.getValue());
            String subject = "identity-evolution-" + current.getName() + "-value";
            registry.register(subject, older);
            registry.register(subject, current); // refused with IncompatibleSchemaException if not BACKWARD
        }
        // An older NeuronScore read with the current schema: the defaults fill the new fields.
        NeuronScore sample = SampleRecords.score(SampleRecords.key(1, 2));
        Schema older = without(NeuronScore.getClassSchema(), Set.of("run_id", "score_id", "scorer_kind", "carried_from"));
        GenericRecord old = new GenericData.Record(older);
        GenericRecord asGeneric = (GenericRecord) SpecificData.get().deepCopy(NeuronScore.getClassSchema(), sample);
        for (Schema.Field f : older.getFields()) {
            old.put(f.name(), GenericData.get().deepCopy(f.schema(), asGeneric.get(f.name())));
        }
        old.put("scored_at", sample.getScoredAt().toEpochMilli());
        String topic = "identity-evolution-scores";
        byte[] bytes = new AvroSerializer<GenericRecord>(registry, false).serialize(topic, old);
        NeuronScore read = AvroDeserializer.of(registry, NeuronScore.class).deserialize(topic, bytes);
        assertEquals("", read.getRunId());
        assertEquals("", read.getScoreId());
        assertEquals("simulation", read.getScorerKind());
        assertEquals(null, read.getCarriedFrom());
        assertEquals(sample.getCorrelation(), read.getCorrelation());
    }

    @Test
    void incompatibleSchemaIsRefusedNamingSubjectAndField() throws Exception {
        RegistryClient registry = clients.registry();
        String subject = "incompatible-explanations-value";
        registry.register(subject, Explanation.getClassSchema());
        assertEquals("BACKWARD", registry.compatibility(subject));

        Schema noDefault = explanationWith("{\"name\": \"score\", \"type\": \"double\"}");
        var missingDefault = assertThrows(IncompatibleSchemaException.class, () -> registry.register(subject, noDefault));
        assertTrue(missingDefault.getMessage().contains(subject), missingDefault.getMessage());
        assertTrue(missingDefault.getMessage().contains("'score'"), missingDefault.getMessage());

        ObjectNode changed = (ObjectNode) JSON.readTree(Explanation.getClassSchema().toString());
        changed.withArray("fields").forEach(f -> {
            if (f.path("name").asText().equals("prompt_tokens")) {
                ((ObjectNode) f).put("type", "string");
                ((ObjectNode) f).put("default", "");
            }
        });
        Schema typeChanged = new Schema.Parser().parse(changed.toString());
        var mismatch = assertThrows(IncompatibleSchemaException.class, () -> registry.register(subject, typeChanged));
        assertTrue(mismatch.getMessage().contains("'prompt_tokens'"), mismatch.getMessage());
        assertEquals(1, mismatch.getMessage().lines().count(), "one line");
    }
}
