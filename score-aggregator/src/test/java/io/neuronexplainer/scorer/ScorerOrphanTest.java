package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scorer with a short orphan timeout on a real broker and registry: a simulation whose
 * activations never arrive, and one whose run's activations never arrive, are dead-lettered with
 * the reason after the timeout and leave the store; one whose activations arrive in time is scored
 * and never dead-lettered; the waiting gauge goes up, then down. A dead letter holds the
 * simulation's bytes as they came, also from a newer writer whose field the scorer does not know.
 */
class ScorerOrphanTest {
    static final Duration TIMEOUT = Duration.ofSeconds(8);
    static final String DLQ = Topics.deadLetter(Topics.NEURON_SIMULATIONS);

    @TempDir
    Path temp;

    @Test
    void simulationsWithoutTheirActivationsAreDeadLetteredAfterTheTimeout() throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            TopicIo.createTopics(clients, 3);
            NeuronActivations arriving = ScorerStreamsTest.truth(21); // run-1
            NeuronActivations never = ScorerStreamsTest.truth(22);
            Simulation inTime = ScorerStreamsTest.simulation(arriving, "expl-in-time", 2f);
            Simulation otherRun = Simulation.newBuilder(ScorerStreamsTest.simulation(arriving, "expl-other-run", 2f))
                    .setRunId("run-2").build();
            Simulation orphan = ScorerStreamsTest.simulation(never, "expl-orphan", 2f);
            NeuronActivations neverEither = ScorerStreamsTest.truth(23);
            byte[] fromNewerWriter = newerWriterBytes(clients, ScorerStreamsTest.simulation(neverEither, "expl-newer-writer", 2f));
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            long sentAt;

            try (Scorer scorer = Scorer.start(clients, ScorerSettings.defaults("orphan-scorer", temp.resolve("state"))
                    .withHttpPort(-1).withOrphanTimeout(TIMEOUT).withOverrides(Map.of("commit.interval.ms", 200)), meters)) {
                scorer.awaitRunning(Duration.ofSeconds(60));
                sentAt = System.currentTimeMillis();
                TopicIo.send(clients, Topics.NEURON_SIMULATIONS, never.getNeuron(), orphan);
                TopicIo.send(clients, Topics.NEURON_SIMULATIONS, arriving.getNeuron(), inTime);
                TopicIo.send(clients, Topics.NEURON_SIMULATIONS, arriving.getNeuron(), otherRun);
                try (KafkaProducer<byte[], byte[]> raw = new KafkaProducer<>(clients.producer(null), new ByteArraySerializer(),
                        new ByteArraySerializer())) {
                    raw.send(new ProducerRecord<>(Topics.NEURON_SIMULATIONS, new AvroSerializer<NeuronKey>(clients.registry(), true)
                            .serialize(Topics.NEURON_SIMULATIONS, neverEither.getNeuron()), fromNewerWriter)).get();
                }
                TopicIo.await("4 simulations waiting", Duration.ofSeconds(15), () -> waiting(meters) == 4);

                TopicIo.sendActivations(clients, arriving);
                TopicIo.await("the simulation in time scored", Duration.ofSeconds(5),
                        () -> TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class).size() == 1);
                TopicIo.await("3 simulations still waiting", Duration.ofSeconds(5), () -> waiting(meters) == 3);
                assertEquals(0, TopicIo.readAll(clients, DLQ, DeadLetter.class).size(), "nothing dead-lettered before the timeout");

                TopicIo.await("3 orphans dead-lettered", Duration.ofSeconds(30),
                        () -> TopicIo.readAll(clients, DLQ, DeadLetter.class).size() >= 3);
                TopicIo.await("none waiting", Duration.ofSeconds(5), () -> waiting(meters) == 0);
                assertEquals(3.0, meters.get("neuron.simulations.orphaned").counter().count());
                assertTrue(scorer.stores().simulations(never.getNeuron()).isEmpty(), "the orphan left the store");
                assertEquals(List.of("expl-in-time"), scorer.stores().simulations(arriving.getNeuron()).stream()
                        .map(Simulation::getExplanationId).toList());

                // The orphan's activations, too late: it is gone from the store, so nothing is scored.
                TopicIo.sendActivations(clients, never);
                TopicIo.await("the late activations stored", Duration.ofSeconds(30),
                        () -> scorer.stores().activations(never.getNeuron()).isPresent());
                Thread.sleep(1000); // a wrong score would be committed by now
            }

            List<NeuronScore> scores = TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class);
            assertEquals(1, scores.size(), "only the simulation in time is scored: " + scores);
            assertEquals("expl-in-time", scores.get(0).getExplanationId());

            List<DeadLetter> letters = TopicIo.readAll(clients, DLQ, DeadLetter.class);
            assertEquals(3, letters.size(), "each orphan dead-lettered once: " + letters);
            AvroDeserializer<Simulation> simulations = AvroDeserializer.of(clients.registry(), Simulation.class);
            AvroDeserializer<NeuronKey> keys = AvroDeserializer.of(clients.registry(), NeuronKey.class);
            Map<String, DeadLetter> byExplanation = letters.stream().collect(Collectors.toMap(
                    l -> simulations.deserialize(DLQ, bytes(l.getValue())).getExplanationId(), l -> l));
            assertEquals(Set.of("expl-orphan", "expl-other-run", "expl-newer-writer"), byExplanation.keySet());
            // Not encoded again by the scorer, which would drop the field it does not know and write its own schema id.
            assertArrayEquals(fromNewerWriter, bytes(byExplanation.get("expl-newer-writer").getValue()));
            for (DeadLetter l : letters) {
                assertEquals("score-aggregator", l.getStage());
                assertEquals(Topics.NEURON_SIMULATIONS, l.getSourceTopic());
                assertEquals(OrphanedSimulationException.class.getName(), l.getErrorClass());
                assertTrue(l.getFailedAt().toEpochMilli() - sentAt >= TIMEOUT.toMillis(),
                        "dead-lettered only after the timeout: " + (l.getFailedAt().toEpochMilli() - sentAt) + " ms");
                assertEquals(simulations.deserialize(DLQ, bytes(l.getValue())).getNeuron(), keys.deserialize(DLQ, bytes(l.getKey())));
            }
            assertEquals("no activations of run run-1 arrived within 8 s", byExplanation.get("expl-orphan").getErrorMessage());
            assertEquals("no activations of run run-2 arrived within 8 s (the scorer holds the neuron's activations of run run-1)",
                    byExplanation.get("expl-other-run").getErrorMessage());
        }
    }

    /**
     * The simulation as a newer worker would write it: its schema has one more field (with a
     * default, so the registry accepts it), here under a subject of its own; readers resolve it by id.
     */
    private static byte[] newerWriterBytes(KafkaClients clients, Simulation simulation) throws IOException {
        Schema current = Simulation.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        current.getFields().forEach(f -> fields.add(new Schema.Field(f, f.schema())));
        fields.add(new Schema.Field("written_by", Schema.create(Schema.Type.STRING), null, ""));
        Schema newer = Schema.createRecord(current.getName(), null, current.getNamespace(), false, fields);
        int id = clients.registry().register("scorer-orphan-test-newer-writer-value", newer);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(Simulation.class).write(simulation, encoder);
        encoder.writeString("a newer worker"); // the new field, last in the record
        encoder.flush();
        return out.toByteArray();
    }

    private static double waiting(SimpleMeterRegistry meters) {
        return meters.get("neuron.simulations.waiting").gauge().value();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
