package io.neuronexplainer.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.test.TestRegistry;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.ScoreKey;
import io.neuronexplainer.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The four services as four JVM processes against one broker and registry give the same
 * scores as the in-JVM demo on the same neurons.
 */
class FourProcessTest {
    static final String NEURONS = "0:0-39";
    static final int COUNT = 40;
    static final String WINDOWS = "300";

    @Test
    void fourProcessesScoreLikeTheInJvmDemo(@TempDir Path dir) throws Exception {
        Map<String, Double> separate;
        Map<String, String> separateTexts = new TreeMap<>();
        try (TestKafka kafka = TestKafka.start(1)) {
            String[] cluster = {"--bootstrap-servers", kafka.bootstrapServers(), "--registry-url", TestRegistry.url()};
            List<Process> services = new ArrayList<>();
            try {
                services.add(CliProcess.start(dir.resolve("score.err"), concat(new String[] {"score", "--http-port", "0",
                        "--state-dir", dir.resolve("scorer-state").toString()}, cluster)));
                services.add(CliProcess.start(dir.resolve("explain.err"), concat(new String[] {"explain"}, cluster)));
                services.add(CliProcess.start(dir.resolve("simulate.err"), concat(new String[] {"simulate"}, cluster)));
                var produced = CliProcess.run(dir.resolve("produce.err"), 300, concat(new String[] {"produce",
                        "--neurons", NEURONS, "--windows", WINDOWS}, cluster));
                assertEquals(0, produced.exitCode(), () -> "produce failed: " + CliProcess.lastLines(produced.stderr(), 20));
                assertTrue(produced.stdout().contains("neurons emitted: " + COUNT), produced.stdout());
                separate = readScores(kafka.clients(), COUNT, Duration.ofSeconds(180), separateTexts);
                assertEquals(COUNT, separate.size(), () -> "neurons scored by the four processes; the services said: "
                        + serviceErrors(dir));
            } finally {
                for (Process p : services) {
                    p.destroy();
                }
                for (Process p : services) {
                    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "a service did not stop on SIGTERM");
                }
            }
        }

        // The demo runs all stages in one JVM of its own, as a user starts it; in its own process it
        // shares no static state with the test's JVM, and its error line reaches the failure message.
        Path results = dir.resolve("results");
        var demoRun = CliProcess.run(dir.resolve("demo.err"), 300, "demo", "--neurons", NEURONS, "--windows", WINDOWS,
                "--results", results.toString(), "--data-dir", dir.resolve("demo").toString());
        assertEquals(0, demoRun.exitCode(), () -> "demo failed: " + CliProcess.lastLines(demoRun.stderr(), 20));
        List<Path> files;
        try (var list = Files.list(results)) {
            files = list.toList();
        }
        assertEquals(1, files.size());
        ObjectMapper json = new ObjectMapper();
        Map<String, Double> demo = new TreeMap<>();
        for (String line : Files.readAllLines(files.get(0))) {
            JsonNode n = json.readTree(line);
            String id = n.path("neuron").path("layer").asInt() + ":" + n.path("neuron").path("neuron").asInt();
            demo.put(id, n.path("best_explanation").path("correlation").asDouble());
            assertEquals(separateTexts.get(id), n.path("best_explanation").path("text").asText(), id);
        }
        assertEquals(separate.keySet(), demo.keySet());
        for (String id : separate.keySet()) {
            assertEquals(separate.get(id), demo.get(id), 1e-9, id);
        }
    }

    /** Reads committed scores until {@code count} neurons have one. */
    static Map<String, Double> readScores(KafkaClients clients, int count, Duration timeout, Map<String, String> texts) {
        Map<String, Double> scores = new TreeMap<>();
        try (var consumer = new KafkaConsumer<>(clients.consumer("four-process-test"),
                AvroDeserializer.of(clients.registry(), ScoreKey.class), AvroDeserializer.of(clients.registry(), NeuronScore.class))) {
            consumer.subscribe(List.of(Topics.NEURON_SCORES));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (scores.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(r -> {
                    String id = r.value().getNeuron().getLayer() + ":" + r.value().getNeuron().getNeuron();
                    scores.put(id, r.value().getCorrelation());
                    texts.put(id, r.value().getExplanationText());
                });
            }
        }
        return scores;
    }

    static String serviceErrors(Path dir) {
        StringBuilder all = new StringBuilder();
        for (String name : List.of("score", "explain", "simulate")) {
            try {
                all.append("\n[").append(name).append("] ")
                        .append(CliProcess.lastLines(Files.readString(dir.resolve(name + ".err")), 10));
            } catch (java.io.IOException e) {
                all.append("\n[").append(name).append("] no stderr: ").append(e.getMessage());
            }
        }
        return all.toString();
    }

    static String[] concat(String[] a, String[] b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
