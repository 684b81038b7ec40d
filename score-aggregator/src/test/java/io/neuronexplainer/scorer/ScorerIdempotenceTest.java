package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scorer fed the same Simulation and the same NeuronActivations again, before and after a
 * restart (with its local state gone, so restored from the changelogs): one NeuronScore per score
 * id in read_committed output; two simulator methods of one explanation are two scores; a
 * simulation of another run waits for that run's activations.
 */
class ScorerIdempotenceTest {
    @TempDir
    Path temp;

    @Test
    void aSimulationOrActivationsDeliveredAgainMakeNoSecondScore() throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            TopicIo.createTopics(clients, 3);
            NeuronActivations truth = ScorerStreamsTest.truth(7); // run-1
            NeuronKey key = truth.getNeuron();
            Simulation sim = ScorerStreamsTest.simulation(truth, "expl-1", 2f);
            Simulation otherMethod = Simulation.newBuilder(sim).setSimulatorMethod("one-at-a-time").build();
            Simulation otherRun = Simulation.newBuilder(ScorerStreamsTest.simulation(truth, "expl-2", 1f)).setRunId("run-2").build();

            try (Scorer scorer = start(clients, temp.resolve("state-1"))) {
                TopicIo.sendActivations(clients, truth);
                TopicIo.send(clients, Topics.NEURON_SIMULATIONS, key, sim);
                TopicIo.send(clients, Topics.NEURON_SIMULATIONS, key, otherMethod);
                TopicIo.send(clients, Topics.NEURON_SIMULATIONS, key, otherRun);
                awaitScores(clients, 2);
                TopicIo.send(clients, Topics.NEURON_SIMULATIONS, key, sim);
                TopicIo.sendActivations(clients, truth);
                // The copy of sim, then the activations again: sim and otherMethod already scored.
                TopicIo.await("copies seen", Duration.ofSeconds(30), () -> scorer.duplicatesSkipped() >= 3);
                assertEquals(2, scorer.scoresComputed());
                assertEquals(3, scorer.stores().simulations(key).size(), "otherRun waits in the store");
            }

            try (Scorer restarted = start(clients, temp.resolve("state-2"))) {
                TopicIo.send(clients, Topics.NEURON_SIMULATIONS, key, otherMethod);
                TopicIo.sendActivations(clients, truth);
                TopicIo.await("copies seen after the restart", Duration.ofSeconds(60), () -> restarted.duplicatesSkipped() >= 3);
                assertEquals(0, restarted.scoresComputed(), "nothing scored again after the restart");

                // Run 2's activations arrive: the simulation of run 2 is scored, those of run 1 wait.
                NeuronActivations run2 = NeuronActivations.newBuilder(truth)
                        .setRun(ProducerRun.newBuilder(truth.getRun()).setRunId("run-2").build()).build();
                TopicIo.sendActivations(clients, run2);
                awaitScores(clients, 3);
                Thread.sleep(1000); // a wrong extra score would be committed by now
                assertEquals(1, restarted.scoresComputed());
            }

            List<NeuronScore> out = TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class);
            Map<String, Long> perId = out.stream().collect(Collectors.groupingBy(NeuronScore::getScoreId, Collectors.counting()));
            assertEquals(3, out.size(), "one score per score id: " + perId);
            assertEquals(3, perId.size());
            Map<String, NeuronScore> byId = out.stream().collect(Collectors.toMap(NeuronScore::getScoreId, Function.identity()));
            assertEquals(Set.of(
                    Identities.scoreId(key, "run-1", "expl-1", Identities.SIMULATION_SCORER, sim.getSimulatorMethod(), null),
                    Identities.scoreId(key, "run-1", "expl-1", Identities.SIMULATION_SCORER, "one-at-a-time", null),
                    Identities.scoreId(key, "run-2", "expl-2", Identities.SIMULATION_SCORER, sim.getSimulatorMethod(), null)),
                    byId.keySet());
            for (NeuronScore s : out) {
                assertEquals(Identities.SIMULATION_SCORER, s.getScorerKind());
                assertEquals(null, s.getCarriedFrom());
                assertEquals(s.getExplanationId().equals("expl-2") ? "run-2" : "run-1", s.getRunId(),
                        "each simulation scored against its own run's activations only");
            }
        }
    }

    private static Scorer start(KafkaClients clients, Path state) throws Exception {
        Scorer scorer = Scorer.start(clients, ScorerSettings.defaults("idempotent-scorer", state).withHttpPort(-1)
                .withOverrides(Map.of("commit.interval.ms", 200, "consumer.session.timeout.ms", 6000)), new SimpleMeterRegistry());
        scorer.awaitRunning(Duration.ofSeconds(60));
        return scorer;
    }

    private static void awaitScores(KafkaClients clients, int n) throws InterruptedException {
        TopicIo.await(n + " scores committed", Duration.ofSeconds(30),
                () -> TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class).size() >= n);
        assertTrue(TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class).size() == n);
    }
}
