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
                assertEquals(0, produced.exitCode(), produced.stderr());
                assertTrue(produced.stdout().contains("neurons emitted: " + COUNT), produced.stdout());
                separate = readScores(kafka.clients(), COUNT, Duration.ofSeconds(180), separateTexts);
            } finally {
                for (Process p : services) {
                    p.destroy();
                }
                for (Process p : services) {
                    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "a service did not stop on SIGTERM");
                }
            }
        }
        assertEquals(COUNT, separate.size());

        Path results = dir.resolve("results");
        int exit = NeuronExplain.commandLine().execute("demo", "--neurons", NEURONS, "--windows", WINDOWS,
                "--results", results.toString(), "--data-dir", dir.resolve("demo").toString());
        assertEquals(0, exit);
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
                AvroDeserializer.of(clients.registry(), NeuronKey.class), AvroDeserializer.of(clients.registry(), NeuronScore.class))) {
            consumer.subscribe(List.of(Topics.NEURON_SCORES));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (scores.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(r -> {
                    String id = r.key().getLayer() + ":" + r.key().getNeuron();
                    scores.put(id, r.value().getCorrelation());
                    texts.put(id, r.value().getExplanationText());
                });
            }
        }
        return scores;
    }

    static String[] concat(String[] a, String[] b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
