package io.neuronexplainer.explainer;

import io.neuronexplainer.runtime.test.CommittedRecords;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.test.TestRegistry;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/** A worker JVM killed with SIGKILL mid-batch and restarted leaves exactly one output per neuron. */
class KillAndRestartTest {
    private static final int NEURONS = 60;

    @Test
    void killedMidBatchAndRestartedLeavesExactlyOneOutputPerNeuron() throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 6, (short) 1, 30_000);
            }
            try (var producer = new KafkaProducer<>(clients.producer(null), new AvroSerializer<ActivationsKey>(clients.registry(), true),
                    new AvroSerializer<NeuronActivations>(clients.registry(), false))) {
                for (int n = 0; n < NEURONS; n++) {
                    NeuronKey key = SampleRecords.key(1, n);
                    producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, SampleRecords.activationsKey(key), SampleRecords.activations(key)));
                }
            }
            // 6 in flight x 400 ms: ~15 neurons/s, so the kill lands while most are still to do.
            Process first = start(kafka, "first", 0);
            try {
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                int seen = 0;
                while (seen < 12) {
                    assertTrue(first.isAlive(), "the worker died on its own; see target/worker-first.log");
                    assertTrue(System.nanoTime() < deadline, "no progress before the kill: " + seen + " explanations");
                    seen = CommittedRecords.read(clients, Topics.NEURON_EXPLANATIONS, new AvroDeserializer<>(clients.registry(), null),
                            new AvroDeserializer<>(clients.registry(), null), 1, Duration.ofMillis(300)).size();
                }
            } finally {
                first.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            int beforeRestart = CommittedRecords.read(clients, Topics.NEURON_EXPLANATIONS, new AvroDeserializer<>(clients.registry(), null),
                    new AvroDeserializer<>(clients.registry(), null), NEURONS, Duration.ofSeconds(1)).size();
            assertTrue(beforeRestart < NEURONS, "the kill came after the whole batch (" + beforeRestart + " done): nothing tested");
            Process second = start(kafka, "second", 3);
            assertTrue(second.waitFor(90, TimeUnit.SECONDS), "the restarted worker did not finish; see target/worker-second.log");
            assertEquals(0, second.exitValue(), Files.readString(Path.of("target", "worker-second.log")));

            var explanations = CommittedRecords.read(clients, Topics.NEURON_EXPLANATIONS,
                    AvroDeserializer.of(clients.registry(), NeuronKey.class),
                    AvroDeserializer.of(clients.registry(), Explanation.class), NEURONS, Duration.ofSeconds(20));
            var requests = CommittedRecords.read(clients, Topics.SIMULATION_REQUESTS,
                    AvroDeserializer.of(clients.registry(), NeuronKey.class),
                    AvroDeserializer.of(clients.registry(), SimulationRequest.class), NEURONS, Duration.ofSeconds(20));
            var letters = CommittedRecords.read(clients, Topics.deadLetter(Topics.NEURON_ACTIVATIONS), new ByteArrayDeserializer(),
                    AvroDeserializer.of(clients.registry(), DeadLetter.class), 0, Duration.ofMillis(500));
            assertEquals(List.of(), letters.stream().map(l -> l.value().getErrorMessage()).toList(), "dead letters");
            assertExactlyOnePerNeuron(explanations);
            assertExactlyOnePerNeuron(requests);
        }
    }

    private static <V> void assertExactlyOnePerNeuron(List<ConsumerRecord<NeuronKey, V>> records) {
        Map<Integer, Long> counts = records.stream().collect(Collectors.groupingBy(r -> r.key().getNeuron(), Collectors.counting()));
        List<Integer> duplicated = new ArrayList<>();
        counts.forEach((n, c) -> {
            if (c != 1) {
                duplicated.add(n);
            }
        });
        List<Integer> missing = new ArrayList<>();
        for (int n = 0; n < NEURONS; n++) {
            if (!counts.containsKey(n)) {
                missing.add(n);
            }
        }
        assertEquals(List.of(), missing, "neurons without an output");
        assertEquals(List.of(), duplicated, "neurons with more than one output");
    }

    private static Process start(TestKafka kafka, String name, int idleSeconds) throws Exception {
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dlogback.configurationFile=logback.xml",
                SlowExplainerProcess.class.getName(),
                kafka.bootstrapServers(), TestRegistry.url(), "worker-1", "400", Integer.toString(idleSeconds));
        Path log = Path.of("target", "worker-" + name + ".log");
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }
}
