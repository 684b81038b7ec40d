package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With explanations reused, a neuron of a later checkpoint waits for its carried score: when that
 * never comes (no simulator answers the carried request, as when it was dead-lettered) the neuron
 * is sent to the explainers after the timeout, not before, and not never; when the previous
 * checkpoint is not scored yet (a backlog, or a late checkpoint placed before it) it waits for
 * that best; a best of 0 or less sends it to the explainers at once.
 */
class ReusePendingTimeoutTest {
    static final Duration TIMEOUT = Duration.ofSeconds(6);

    @TempDir
    Path temp;

    static NeuronActivations at(String checkpoint, long step) {
        NeuronActivations truth = ScorerStreamsTest.truth(5);
        NeuronKey key = NeuronKey.newBuilder(truth.getNeuron()).setCheckpoint(checkpoint).build();
        return NeuronActivations.newBuilder(truth).setNeuron(key).setRun(ProducerRun.newBuilder(truth.getRun())
                .setRunId("run-" + checkpoint).setSeriesId("series-1").setStep(step).build()).build();
    }

    @Test
    void aNeuronWhoseCarriedScoreNeverComesIsExplainedAfterTheTimeout() throws Exception {
        withReusingScorer("reuse-timeout", TIMEOUT, clients -> {
            NeuronActivations a = at("a", 100);
            NeuronActivations b = at("b", 200);
            explainedAndScored(clients, a);
            Thread.sleep(2000); // the best score read back by the drift tracker (a few commit intervals)

            long sentAt = System.nanoTime();
            TopicIo.sendActivations(clients, b);
            TopicIo.await("the carried request for b", Duration.ofSeconds(20),
                    () -> TopicIo.readAll(clients, Topics.SIMULATION_REQUESTS, SimulationRequest.class).stream()
                            .anyMatch(r -> "a".equals(r.getCarriedFrom())));
            SimulationRequest carried = TopicIo.readAll(clients, Topics.SIMULATION_REQUESTS, SimulationRequest.class).stream()
                    .filter(r -> "a".equals(r.getCarriedFrom())).findFirst().orElseThrow();
            assertEquals(b.getNeuron(), carried.getNeuron());
            assertEquals("run-b", carried.getRunId());
            List<io.neuronexplainer.schemas.TokenWindow> expected = new java.util.ArrayList<>();
            b.getScoringTopWindows().forEach(w -> expected.add(new io.neuronexplainer.schemas.TokenWindow(w.getWindowIndex(),
                    io.neuronexplainer.schemas.WindowKind.TOP, w.getTokens())));
            b.getScoringRandomWindows().forEach(w -> expected.add(new io.neuronexplainer.schemas.TokenWindow(w.getWindowIndex(),
                    io.neuronexplainer.schemas.WindowKind.RANDOM, w.getTokens())));
            assertEquals(expected, carried.getWindows(), "b's scoring windows' tokens, attached from the scorer's activations store");
            assertTrue(expected.stream().allMatch(w -> !w.getTokens().isEmpty()));
            Thread.sleep(Math.max(0, TIMEOUT.toMillis() / 2 - (System.nanoTime() - sentAt) / 1_000_000));
            assertEquals(List.of("a"), checkpoints(clients), "b waits for its carried score");

            TopicIo.await("b explained after the timeout", TIMEOUT.plusSeconds(20), () -> checkpoints(clients).size() == 2);
            long waitedMs = (System.nanoTime() - sentAt) / 1_000_000;
            assertTrue(waitedMs >= TIMEOUT.toMillis() - 500, "explained only after the timeout: " + waitedMs + " ms");
            // The two requests can be on different partitions, which a reader may return in either order.
            assertEquals(List.of("a", "b"), checkpoints(clients).stream().sorted().toList(), "each checkpoint explained once");
            NeuronActivations sent = TopicIo.readAll(clients, Topics.EXPLANATION_REQUESTS, NeuronActivations.class).stream()
                    .filter(x -> x.getNeuron().getCheckpoint().toString().equals("b")).findFirst().orElseThrow();
            assertEquals(b, sent, "the activations record as it came");
        });
    }

    /**
     * A backlog: the next checkpoint's activations come before the previous one is scored. The
     * neuron waits for the previous best instead of being explained at once, and then keeps it.
     */
    @Test
    void aCheckpointComingBeforeThePreviousIsScoredWaitsAndKeepsItsExplanation() throws Exception {
        withBacklog("reuse-backlog", (clients, a, b) -> {
            TopicIo.send(clients, Topics.NEURON_SIMULATIONS, a.getNeuron(), explanationOfA(a));
            awaitCarriedRequest(clients, "the carried request for b, asked when a's best came", b);
            TopicIo.send(clients, Topics.NEURON_SIMULATIONS, b.getNeuron(), carriedFromA(b));
            TopicIo.await("b's best: a's explanation, kept", Duration.ofSeconds(20),
                    () -> TopicIo.readAll(clients, Topics.NEURON_BEST_SCORES, NeuronScore.class).stream()
                            .anyMatch(s -> s.getNeuron().equals(b.getNeuron()) && "expl-a".equals(s.getExplanationId())
                                    && "a".equals(s.getCarriedFrom())));
            Thread.sleep(2000);
            assertEquals(List.of("a"), checkpoints(clients), "b never sent to the explainers");
        });
    }

    /** The awaited best scores 0 or less: nothing worth carrying, so the waiting neuron is explained then, not at the timeout. */
    @Test
    void aWaitingCheckpointIsExplainedOnceThePreviousBestScoresBelowZero() throws Exception {
        withBacklog("reuse-backlog-negative", (clients, a, b) -> {
            List<List<Float>> top = new ArrayList<>();
            List<List<Float>> random = new ArrayList<>();
            a.getScoringTopWindows().forEach(w -> top.add(w.getActivations().stream().map(x -> -x).toList()));
            a.getScoringRandomWindows().forEach(w -> random.add(w.getActivations().stream().map(x -> -x).toList()));
            Simulation wrong = Simulation.newBuilder(Fixtures.simulation(a.getNeuron(), "expl-a", top, random))
                    .setRunId("run-a").build();
            TopicIo.send(clients, Topics.NEURON_SIMULATIONS, a.getNeuron(), wrong);
            TopicIo.await("a's best, below zero", Duration.ofSeconds(20),
                    () -> TopicIo.readAll(clients, Topics.NEURON_BEST_SCORES, NeuronScore.class).stream()
                            .anyMatch(s -> s.getNeuron().equals(a.getNeuron()) && s.getCorrelation() < 0));
            // No simulator answers the carried request: only the best itself can release b before the timeout (5 min).
            TopicIo.await("b explained once a's best came", Duration.ofSeconds(20), () -> checkpoints(clients).size() == 2);
            assertEquals(List.of("a", "b"), checkpoints(clients).stream().sorted().toList(), "each checkpoint explained once");
        });
    }

    /**
     * A late checkpoint b placed between a (scored) and c (waiting for a's carried score): when a's
     * carried score comes to c, c's previous is b, not scored yet, so c keeps waiting for b's.
     */
    @Test
    void aLateCheckpointNotScoredYetKeepsTheNextOneWaiting() throws Exception {
        withReusingScorer("reuse-late", Duration.ofMinutes(5), clients -> {
            NeuronActivations a = at("a", 100);
            NeuronActivations b = at("b", 200);
            NeuronActivations c = at("c", 300);
            explainedAndScored(clients, a);
            TopicIo.sendActivations(clients, c);
            awaitCarriedRequest(clients, "the carried request a -> c", c);
            TopicIo.sendActivations(clients, b);
            awaitCarriedRequest(clients, "the carried request a -> b", b);

            TopicIo.await("c placed after b", Duration.ofSeconds(20), () -> driftRecords(clients, "b", "c") > 0);
            long before = driftRecords(clients, "b", "c");
            TopicIo.send(clients, Topics.NEURON_SIMULATIONS, c.getNeuron(), carriedFromA(c));
            // c's carried score from a reaches the tracker, which writes the pair (b, c) again.
            TopicIo.await("a's carried score at c", Duration.ofSeconds(20), () -> driftRecords(clients, "b", "c") > before);
            assertEquals(List.of("a"), checkpoints(clients), "b and c wait: c's previous is now b, not scored yet");

            // b keeps a's explanation; then that best, carried from b, decides c.
            TopicIo.send(clients, Topics.NEURON_SIMULATIONS, b.getNeuron(), carriedFromA(b));
            TopicIo.await("the carried request b -> c", Duration.ofSeconds(20),
                    () -> TopicIo.readAll(clients, Topics.SIMULATION_REQUESTS, SimulationRequest.class).stream()
                            .anyMatch(r -> "b".equals(r.getCarriedFrom()) && r.getNeuron().equals(c.getNeuron())));
            Simulation fromB = Simulation.newBuilder(carriedFromA(c)).setCarriedFrom("b").build();
            TopicIo.send(clients, Topics.NEURON_SIMULATIONS, c.getNeuron(), fromB);
            TopicIo.await("c's best: the explanation carried from b", Duration.ofSeconds(20),
                    () -> TopicIo.readAll(clients, Topics.NEURON_BEST_SCORES, NeuronScore.class).stream()
                            .anyMatch(x -> x.getNeuron().equals(c.getNeuron()) && "b".equals(x.getCarriedFrom())));
            assertEquals(List.of("a"), checkpoints(clients), "only a was ever explained");
        });
    }

    private interface Backlog {
        void check(KafkaClients clients, NeuronActivations a, NeuronActivations b) throws Exception;
    }

    /** Checkpoint a explained but not scored, then b come and (checked) waiting for a's best; then {@code then}. */
    private void withBacklog(String applicationId, Backlog then) throws Exception {
        withReusingScorer(applicationId, Duration.ofMinutes(5), clients -> {
            NeuronActivations a = at("a", 100);
            NeuronActivations b = at("b", 200);
            TopicIo.sendActivations(clients, a);
            // Once a is with the tracker (sent on to the explainers), b comes: a is not scored yet.
            // (Sent together, this test's records can take different partitions and b reach the
            // tracker first, with no previous checkpoint to wait for.)
            TopicIo.await("the first checkpoint sent to the explainers", Duration.ofSeconds(20),
                    () -> checkpoints(clients).contains("a"));
            TopicIo.sendActivations(clients, b);
            // The pair's drift is written as b is placed, in the transaction of b's decision.
            TopicIo.await("b placed after a", Duration.ofSeconds(20), () -> driftRecords(clients, "a", "b") > 0);
            assertEquals(List.of("a"), checkpoints(clients), "b waits for a's best, not explained at once");
            then.check(clients, a, b);
        });
    }

    private interface ScorerCheck {
        void check(KafkaClients clients) throws Exception;
    }

    /** A broker, the topics and a scorer reusing explanations (threshold 0.9) whose neurons wait at most {@code pendingTimeout}. */
    private void withReusingScorer(String applicationId, Duration pendingTimeout, ScorerCheck check) throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            TopicIo.createTopics(clients, 3);
            try (Scorer scorer = Scorer.start(clients, ScorerSettings.defaults(applicationId, temp.resolve("state"))
                    .withHttpPort(-1).withOrphanTimeout(pendingTimeout).withReuse(0.9)
                    .withOverrides(Map.of("commit.interval.ms", 200)), new SimpleMeterRegistry())) {
                scorer.awaitRunning(Duration.ofSeconds(60));
                check.check(clients);
            }
        }
    }

    /** Checkpoint a, the first of its series, sent to the explainers (nothing to carry) and then scored. */
    private static void explainedAndScored(KafkaClients clients, NeuronActivations a) throws Exception {
        TopicIo.sendActivations(clients, a);
        TopicIo.await("the first checkpoint sent to the explainers (nothing to carry)", Duration.ofSeconds(20),
                () -> TopicIo.readAll(clients, Topics.EXPLANATION_REQUESTS, NeuronActivations.class).size() == 1);
        TopicIo.send(clients, Topics.NEURON_SIMULATIONS, a.getNeuron(), explanationOfA(a));
        TopicIo.await("its score", Duration.ofSeconds(20),
                () -> !TopicIo.readAll(clients, Topics.NEURON_BEST_SCORES, NeuronScore.class).isEmpty());
    }

    /** The simulation of explanation expl-a on {@code on}'s windows (the same activations at every checkpoint here). */
    private static Simulation explanationOfA(NeuronActivations on) {
        return Simulation.newBuilder(ScorerStreamsTest.simulation(on, "expl-a", 0.5f)).setRunId(on.getRun().getRunId()).build();
    }

    /** Waits for the drift tracker's request to simulate a's best explanation on {@code to}'s windows. */
    private static void awaitCarriedRequest(KafkaClients clients, String what, NeuronActivations to) throws Exception {
        TopicIo.await(what, Duration.ofSeconds(20),
                () -> TopicIo.readAll(clients, Topics.SIMULATION_REQUESTS, SimulationRequest.class).stream()
                        .anyMatch(r -> "a".equals(r.getCarriedFrom()) && r.getNeuron().equals(to.getNeuron())));
    }

    /** The simulator's answer to that request: a's explanation on {@code to}'s windows, as good as on a's own. */
    private static Simulation carriedFromA(NeuronActivations to) {
        return Simulation.newBuilder(explanationOfA(to)).setCarriedFrom("a").build();
    }

    /** How many drift records the pair (from, to) has on neuron-drift (tombstones of retracted pairs left out). */
    private static long driftRecords(KafkaClients clients, String from, String to) {
        return TopicIo.readAll(clients, Topics.NEURON_DRIFT, NeuronDrift.class).stream().filter(java.util.Objects::nonNull)
                .filter(d -> d.getKey().getFromCheckpoint().equals(from) && d.getKey().getToCheckpoint().equals(to)).count();
    }

    private static List<String> checkpoints(KafkaClients clients) {
        return TopicIo.readAll(clients, Topics.EXPLANATION_REQUESTS, NeuronActivations.class).stream()
                .map(x -> x.getNeuron().getCheckpoint().toString()).toList();
    }
}
