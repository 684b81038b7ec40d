package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scorer killed with SIGKILL mid-run (a child JVM, input still arriving) and started again:
 * in read_committed output every neuron is scored exactly once, and the layer aggregate counts
 * each neuron once.
 */
class ScorerRestartTest {
    static final int NEURONS = 300;

    @TempDir
    Path temp;

    @Test
    void killedMidRunAndRestartedScoresEveryNeuronExactlyOnce() throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            TopicIo.createTopics(clients, 3);
            Random rnd = new Random(5);
            AtomicInteger sent = new AtomicInteger();
            java.util.concurrent.CountDownLatch scoring = new java.util.concurrent.CountDownLatch(1);
            long t0 = System.nanoTime();
            Path state = temp.resolve("state");
            Thread producer = new Thread(() -> {
                try (var p = TopicIo.producer(clients)) {
                    for (int i = 0; i < NEURONS; i++) {
                        // 5 top and 5 random windows of 64 tokens, and a simulation right on most tokens.
                        NeuronKey key = new NeuronKey("restart-test", "final", 0, i);
                        List<List<Float>> top = Fixtures.firingWindows(rnd, 5);
                        List<List<Float>> random = Fixtures.firingWindows(rnd, 5);
                        NeuronActivations a = Fixtures.activations(key, top, random);
                        Simulation s = Fixtures.simulation(key, "e" + (i % 3),
                                Fixtures.mostlyRight(rnd, top), Fixtures.mostlyRight(rnd, random));
                        if (i % 2 == 0) {
                            sendSurely(p, new ProducerRecord<>(Topics.NEURON_SIMULATIONS, a.getNeuron(), s));
                            sendSurely(p, new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, Identities.activationsKey(a), a));
                        } else {
                            sendSurely(p, new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, Identities.activationsKey(a), a));
                            sendSurely(p, new ProducerRecord<>(Topics.NEURON_SIMULATIONS, a.getNeuron(), s));
                        }
                        sent.incrementAndGet();
                        if (i == NEURONS / 2) {
                            p.flush();
                            scoring.await(); // the second half arrives while the scorer runs, and dies
                        }
                        if (i > NEURONS / 2) {
                            Thread.sleep(10);
                        }
                    }
                    p.flush();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "test-producer");
            producer.start();

            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "-cp", System.getProperty("java.class.path"), ScorerChildMain.class.getName(),
                    "--bootstrap-servers", clients.bootstrapServers(), "--registry-url", clients.registryUrl(),
                    "--partitions", "3", "--application-id", "restart-scorer", "--state-dir", state.toString(),
                    "--http-port", "-1", "--session-timeout-ms", "6000", "--commit-interval-ms", "200")
                    .redirectErrorStream(true)
                    .redirectOutput(Path.of("target", "scorer-child.log").toFile())
                    .start();
            int atKill;
            try {
                TopicIo.await("the child scorer's first committed scores", Duration.ofSeconds(60), () -> {
                    if (!child.isAlive()) {
                        throw new AssertionError("child scorer exited " + child.exitValue() + ", see target/scorer-child.log");
                    }
                    return TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class).size() >= 20;
                });
                System.out.printf("child scoring after %.1f s%n", (System.nanoTime() - t0) / 1e9);
                scoring.countDown();
                // The test's own input: its idempotent producer can stall on a broker-side sequence race of
                // Kafka 4 (OutOfOrderSequenceException, retried) until its delivery timeout, 120 s.
                TopicIo.await("more input", Duration.ofSeconds(150), () -> sent.get() > NEURONS / 2 + 30);
            } finally {
                scoring.countDown();
                child.destroyForcibly(); // SIGKILL: no commit, no clean leave, an open transaction
                child.waitFor(30, TimeUnit.SECONDS);
                atKill = sent.get();
            }
            int committedAtKill = TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class).size();
            assertTrue(atKill < NEURONS, "killed mid-run: input was still arriving (" + atKill + " sent)");
            producer.join(120_000);

            ScorerSettings settings = ScorerSettings.defaults("restart-scorer", state).withHttpPort(-1)
                    .withOverrides(Map.of("consumer.session.timeout.ms", 6000, "commit.interval.ms", 200));
            System.out.printf("killed after %.1f s, %d committed%n", (System.nanoTime() - t0) / 1e9, committedAtKill);
            try (Scorer scorer = Scorer.start(clients, settings, new SimpleMeterRegistry())) {
                TopicIo.await("every neuron scored", Duration.ofSeconds(90),
                        () -> TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class).size() >= NEURONS);
                TopicIo.await("aggregate complete", Duration.ofSeconds(30), () -> scorer.stores().scoredNeurons() >= NEURONS);
                System.out.printf("all scored after %.1f s%n", (System.nanoTime() - t0) / 1e9);
                Thread.sleep(1000); // anything extra would be committed by now

                List<NeuronScore> out = TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class);
                Map<String, Long> perExplanation = out.stream().collect(Collectors.groupingBy(
                        NeuronScore::getScoreId, Collectors.counting()));
                List<String> twice = perExplanation.entrySet().stream().filter(e -> e.getValue() > 1)
                        .map(Map.Entry::getKey).toList();
                assertEquals(List.of(), twice, "scored more than once");
                assertEquals(NEURONS, perExplanation.size());
                assertEquals(NEURONS, out.size());
                assertTrue(committedAtKill > 0 && committedAtKill < NEURONS, "committed at kill: " + committedAtKill);

                Map<NeuronKey, NeuronScore> best = new HashMap<>();
                out.forEach(s -> best.put(s.getNeuron(), s));
                double mean = best.values().stream().mapToDouble(NeuronScore::getCorrelation).average().orElseThrow();
                List<LayerAggregate> layers = new ArrayList<>(scorer.stores().layers());
                assertEquals(1, layers.size());
                assertEquals(NEURONS, layers.get(0).count(), "each neuron counted once");
                assertEquals(mean, layers.get(0).mean(), 1e-9);
                long good = best.values().stream().filter(s -> s.getCorrelation() >= 0.8).count();
                assertEquals(good, layers.get(0).atLeastGood());
                System.out.printf("checked after %.1f s%n", (System.nanoTime() - t0) / 1e9);
            }
            System.out.printf("scorer closed after %.1f s%n", (System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * The test's input must all arrive: each send is awaited and tried again if it failed (a Kafka 4
     * broker can refuse a batch with a retriable OutOfOrderSequenceException under load).
     */
    static <K, V> void sendSurely(org.apache.kafka.clients.producer.Producer<K, V> p, ProducerRecord<K, V> record)
            throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                p.send(record).get(60, TimeUnit.SECONDS);
                return;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                if (attempt == 5) {
                    throw new IllegalStateException("cannot send the test's input: " + e.getMessage(), e);
                }
            }
        }
    }
}
