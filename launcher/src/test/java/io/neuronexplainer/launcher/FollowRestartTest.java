package io.neuronexplainer.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.TopicSnapshot;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.test.TestRegistry;
import io.neuronexplainer.schemas.CheckpointKey;
import io.neuronexplainer.schemas.CheckpointReleased;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.ScoreKey;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The continuous flow as separate processes (watch, produce --follow, explain, simulate, score) on
 * one broker and registry: a training run's checkpoints are explained and scored with nobody typing
 * a command; every process killed with kill -9 mid-way and started again, plus a forced re-run of a
 * checkpoint, leave exactly one record per identity on every topic.
 */
class FollowRestartTest {
    static final Path DEMO = Path.of(System.getProperty("neuron.project.root", "..")).toAbsolutePath().normalize()
            .resolve("models/demo-gpt2");
    static final String NEURONS = "0:0-19";
    static final int PER_CHECKPOINT = 20;

    @TempDir
    Path dir;

    Path run() {
        return dir.resolve("training-run").resolve("demo-gpt2");
    }

    void write(String checkpoint) throws IOException {
        Path target = Files.createDirectories(run().resolve(checkpoint));
        try (var files = Files.list(DEMO.resolve(checkpoint))) {
            for (Path f : files.toList()) {
                Files.copy(f, target.resolve(f.getFileName()));
            }
        }
        Files.writeString(target.resolve("READY"), "");
    }

    List<Process> startAll(String[] cluster, String round) throws IOException {
        List<Process> services = new ArrayList<>();
        services.add(CliProcess.start(dir.resolve("watch-" + round + ".err"), FourProcessTest.concat(new String[] {"watch",
                "--folder", run().toString(), "--ready-file", "READY", "--poll-s", "1"}, cluster)));
        services.add(CliProcess.start(dir.resolve("produce-" + round + ".err"), FourProcessTest.concat(new String[] {"produce",
                "--follow", "--neurons", NEURONS, "--windows", "200", "--instance-id", "producer-1"}, cluster)));
        services.add(CliProcess.start(dir.resolve("explain-" + round + ".err"), FourProcessTest.concat(new String[] {"explain",
                "--instance-id", "explainer-1"}, cluster)));
        services.add(CliProcess.start(dir.resolve("simulate-" + round + ".err"), FourProcessTest.concat(new String[] {"simulate",
                "--instance-id", "simulator-1"}, cluster)));
        services.add(CliProcess.start(dir.resolve("score-" + round + ".err"), FourProcessTest.concat(new String[] {"score",
                "--http-port", "0", "--state-dir", dir.resolve("scorer-state").toString()}, cluster)));
        return services;
    }

    @Test
    void checkpointsFollowedAndNoIdentityRecordedTwiceAfterEveryProcessRestarts() throws Exception {
        Files.createDirectories(run());
        Files.copy(DEMO.resolve("tokenizer.json"), run().resolve("tokenizer.json"));
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            String[] cluster = {"--bootstrap-servers", kafka.bootstrapServers(), "--registry-url", TestRegistry.url()};
            List<Process> first = startAll(cluster, "1");
            try {
                write("step-000300");
                write("step-001500");
                awaitScored(clients, Map.of("step-000300", PER_CHECKPOINT, "step-001500", PER_CHECKPOINT), "first", dir, "1");
                // The training run writes its last checkpoint; every process dies at once, mid-way.
                write("final");
                Thread.sleep(4_000);
            } finally {
                for (Process p : first) {
                    p.destroyForcibly();
                }
                for (Process p : first) {
                    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                }
            }
            List<Process> second = startAll(cluster, "2");
            try {
                var forced = CliProcess.run(dir.resolve("force.err"), 300, FourProcessTest.concat(new String[] {"produce",
                        "--model", run().resolve("step-000300").toString(), "--neurons", NEURONS, "--windows", "200",
                        "--force"}, cluster));
                assertEquals(0, forced.exitCode(), () -> "produce --force failed: " + CliProcess.lastLines(forced.stderr(), 20));
                awaitScored(clients, Map.of("step-000300", PER_CHECKPOINT, "step-001500", PER_CHECKPOINT,
                        "final", PER_CHECKPOINT), "after the restart", dir, "2");
                Thread.sleep(5_000); // time for any duplicate a stage would wrongly make to show up
            } finally {
                for (Process p : second) {
                    p.destroy();
                }
                for (Process p : second) {
                    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "a service did not stop on SIGTERM");
                }
            }

            assertOnePerIdentity(clients, Topics.CHECKPOINTS, CheckpointKey.class, CheckpointReleased.class,
                    r -> r.getModel() + "/" + r.getCheckpoint(), 3);
            assertOnePerIdentity(clients, Topics.NEURON_EXPLANATIONS, NeuronKey.class, Explanation.class,
                    Explanation::getExplanationId, 3 * PER_CHECKPOINT);
            // Requests, simulations and scores of explanations carried to the next checkpoint (drift) are
            // identities of their own: each once too, whether or not all are done yet.
            assertOnePerIdentity(clients, Topics.SIMULATION_REQUESTS, NeuronKey.class, SimulationRequest.class,
                    r -> r.getExplanationId() + (r.getCarriedFrom() == null ? "" : " carried to " + r.getRunId()),
                    3 * PER_CHECKPOINT, r -> r.getCarriedFrom() == null);
            assertOnePerIdentity(clients, Topics.NEURON_SIMULATIONS, NeuronKey.class, Simulation.class,
                    s -> s.getExplanationId() + "/" + s.getSimulatorMethod() + (s.getCarriedFrom() == null ? "" : " carried to "
                            + s.getRunId()), 3 * PER_CHECKPOINT, s -> s.getCarriedFrom() == null);
            assertOnePerIdentity(clients, Topics.NEURON_SCORES, ScoreKey.class, NeuronScore.class,
                    NeuronScore::getScoreId, 3 * PER_CHECKPOINT, s -> s.getCarriedFrom() == null);
        }
    }

    static <K extends SpecificRecord, V extends SpecificRecord> void assertOnePerIdentity(
            KafkaClients clients, String topic, Class<K> keyType, Class<V> valueType, Function<V, String> identity,
            int expected) {
        assertOnePerIdentity(clients, topic, keyType, valueType, identity, expected, v -> true);
    }

    /** One record per identity; {@code expected} distinct identities among the records {@code counted} selects. */
    static <K extends SpecificRecord, V extends SpecificRecord> void assertOnePerIdentity(
            KafkaClients clients, String topic, Class<K> keyType, Class<V> valueType, Function<V, String> identity,
            int expected, java.util.function.Predicate<V> counted) {
        Map<String, Integer> counts = new HashMap<>();
        java.util.Set<String> countedIds = new java.util.HashSet<>();
        for (ConsumerRecord<K, V> r : TopicSnapshot.read(clients, topic, keyType, valueType)) {
            counts.merge(identity.apply(r.value()), 1, Integer::sum);
            if (counted.test(r.value())) {
                countedIds.add(identity.apply(r.value()));
            }
        }
        assertEquals(expected, countedIds.size(), topic + ": distinct identities");
        counts.forEach((id, n) -> assertEquals(1, n, topic + ": records of identity " + id));
    }

    /** Waits until each checkpoint has the given number of neurons with a committed score. */
    static void awaitScored(KafkaClients clients, Map<String, Integer> expected, String when, Path dir, String round)
            throws InterruptedException {
        long deadline = System.nanoTime() + 240_000_000_000L;
        Map<String, Integer> scored = Map.of();
        while (System.nanoTime() < deadline) {
            Map<String, java.util.Set<Integer>> neurons = new HashMap<>();
            for (ConsumerRecord<ScoreKey, NeuronScore> r
                    : TopicSnapshot.read(clients, Topics.NEURON_SCORES, ScoreKey.class, NeuronScore.class)) {
                NeuronKey k = r.value().getNeuron();
                neurons.computeIfAbsent(k.getCheckpoint(), c -> new java.util.HashSet<>()).add(k.getNeuron());
            }
            scored = new HashMap<>();
            for (var e : neurons.entrySet()) {
                scored.put(e.getKey(), e.getValue().size());
            }
            if (scored.equals(expected)) {
                return;
            }
            Thread.sleep(1_000);
        }
        StringBuilder said = new StringBuilder();
        for (String name : List.of("watch", "produce", "explain", "simulate", "score")) {
            try {
                said.append("\n[").append(name).append("] ")
                        .append(CliProcess.lastLines(Files.readString(dir.resolve(name + "-" + round + ".err")), 8));
            } catch (IOException e) {
                said.append("\n[").append(name).append("] no stderr");
            }
        }
        throw new AssertionError("scores " + when + ": " + scored + ", expected " + expected + "; the services said:" + said);
    }
}
