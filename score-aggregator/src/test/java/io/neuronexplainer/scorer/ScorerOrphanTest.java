package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scorer with a short orphan timeout on a real broker and registry: a simulation whose
 * activations never arrive, and one whose run's activations never arrive, are dead-lettered with
 * the reason after the timeout and leave the store; one whose activations arrive in time is scored
 * and never dead-lettered; the waiting gauge goes up, then down.
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
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            long sentAt;

            try (Scorer scorer = Scorer.start(clients, ScorerSettings.defaults("orphan-scorer", temp.resolve("state"))
                    .withHttpPort(-1).withOrphanTimeout(TIMEOUT).withOverrides(Map.of("commit.interval.ms", 200)), meters)) {
                scorer.awaitRunning(Duration.ofSeconds(60));
                sentAt = System.currentTimeMillis();
                TopicIo.send(clients, Topics.NEURON_SIMULATIONS, never.getNeuron(), orphan);
                TopicIo.send(clients, Topics.NEURON_SIMULATIONS, arriving.getNeuron(), inTime);
                TopicIo.send(clients, Topics.NEURON_SIMULATIONS, arriving.getNeuron(), otherRun);
                TopicIo.await("3 simulations waiting", Duration.ofSeconds(15), () -> waiting(meters) == 3);

                TopicIo.sendActivations(clients, arriving);
                TopicIo.await("the simulation in time scored", Duration.ofSeconds(5),
                        () -> TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class).size() == 1);
                TopicIo.await("2 simulations still waiting", Duration.ofSeconds(5), () -> waiting(meters) == 2);
                assertEquals(0, TopicIo.readAll(clients, DLQ, DeadLetter.class).size(), "nothing dead-lettered before the timeout");

                TopicIo.await("2 orphans dead-lettered", Duration.ofSeconds(30),
                        () -> TopicIo.readAll(clients, DLQ, DeadLetter.class).size() >= 2);
                TopicIo.await("none waiting", Duration.ofSeconds(5), () -> waiting(meters) == 0);
                assertEquals(2.0, meters.get("neuron.simulations.orphaned").counter().count());
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
            assertEquals(2, letters.size(), "each orphan dead-lettered once: " + letters);
            AvroDeserializer<Simulation> simulations = AvroDeserializer.of(clients.registry(), Simulation.class);
            AvroDeserializer<NeuronKey> keys = AvroDeserializer.of(clients.registry(), NeuronKey.class);
            Map<String, DeadLetter> byExplanation = letters.stream().collect(Collectors.toMap(
                    l -> simulations.deserialize(DLQ, bytes(l.getValue())).getExplanationId(), l -> l));
            assertEquals(Set.of("expl-orphan", "expl-other-run"), byExplanation.keySet());
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
