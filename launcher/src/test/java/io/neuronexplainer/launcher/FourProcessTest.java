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
 * scores as the in-JVM demo on the same neurons, with all three scorers; each judged score in the
 * demo's export equals a plain recomputation from its exported judgements.
 */
class FourProcessTest {
    static final String NEURONS = "0:0-39";
    static final int COUNT = 40;
    static final String WINDOWS = "300";
    static final String SCORERS = "simulation,detection,fuzzing";

    @Test
    void fourProcessesScoreLikeTheInJvmDemo(@TempDir Path dir) throws Exception {
        Map<String, Double> separate;
        Map<String, String> separateTexts = new TreeMap<>();
        Map<String, Double> separateJudged = new TreeMap<>();
        try (TestKafka kafka = TestKafka.start(1)) {
            String[] cluster = {"--bootstrap-servers", kafka.bootstrapServers(), "--registry-url", TestRegistry.url()};
            List<Process> services = new ArrayList<>();
            try {
                services.add(CliProcess.start(dir.resolve("score.err"), concat(new String[] {"score", "--http-port", "0",
                        "--state-dir", dir.resolve("scorer-state").toString()}, cluster)));
                services.add(CliProcess.start(dir.resolve("explain.err"), concat(new String[] {"explain", "--scorers", SCORERS}, cluster)));
                services.add(CliProcess.start(dir.resolve("simulate.err"), concat(new String[] {"simulate"}, cluster)));
                var produced = CliProcess.run(dir.resolve("produce.err"), 300, concat(new String[] {"produce",
                        "--neurons", NEURONS, "--windows", WINDOWS}, cluster));
                assertEquals(0, produced.exitCode(), () -> "produce failed: " + CliProcess.lastLines(produced.stderr(), 20));
                assertTrue(produced.stdout().contains("neurons emitted: " + COUNT), produced.stdout());
                separate = readScores(kafka.clients(), COUNT, Duration.ofSeconds(180), separateTexts, separateJudged);
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
        var demoRun = CliProcess.run(dir.resolve("demo.err"), 300, "demo", "--neurons", NEURONS, "--windows", WINDOWS, "--scorers", SCORERS,
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
        assertTrue(demoRun.stdout().contains("scorers over the same explanations"), demoRun.stdout());

        // Every neuron has one score of each kind, each naming its explainer method; a judged one's
        // balanced accuracy and AUROC recompute from its judgements, and equal the four processes'.
        Map<String, Double> demoJudged = new TreeMap<>();
        for (String line : Files.readAllLines(files.get(0))) {
            JsonNode n = json.readTree(line);
            String id = n.path("neuron").path("layer").asInt() + ":" + n.path("neuron").path("neuron").asInt();
            List<String> kinds = new ArrayList<>();
            for (JsonNode score : n.path("scores")) {
                String kind = score.path("scorer_kind").asText();
                kinds.add(kind);
                assertTrue(score.path("explainer_method").asText().startsWith("token-pattern-baseline/"), score.toString());
                if (kind.equals("simulation")) {
                    continue;
                }
                JsonNode figure = score.path("balanced_accuracy");
                double[] recomputed = recompute(score.path("judgements"));
                if (figure.isNull()) {
                    assertEquals(0, score.path("judgements").size(), score.toString());
                    continue;
                }
                assertEquals(recomputed[0], figure.asDouble(), 1e-12, score.toString());
                if (Double.isNaN(recomputed[1])) {
                    assertTrue(score.path("auroc").isNull(), score.toString());
                } else {
                    assertEquals(recomputed[1], score.path("auroc").asDouble(), 1e-12, score.toString());
                }
                demoJudged.put(id + "/" + kind, figure.asDouble());
            }
            assertEquals(List.of("simulation", "detection", "fuzzing"), kinds, id);
        }
        assertTrue(demoJudged.size() >= COUNT, "most neurons have both judged figures: " + demoJudged.size());
        assertEquals(separateJudged, demoJudged, "the judged figures of the four processes and of the demo");
    }

    /**
     * Balanced accuracy (the mean of the classes' shares judged right) and AUROC (a positive's
     * probability of yes above a negative's, ties half; NaN without probabilities or a class),
     * from exported judgements alone.
     */
    static double[] recompute(JsonNode judgements) {
        List<Double> pos = new ArrayList<>();
        List<Double> neg = new ArrayList<>();
        int posRight = 0;
        int negRight = 0;
        boolean probabilities = true;
        for (JsonNode j : judgements) {
            boolean truth = j.path("truth").asBoolean();
            boolean yes = j.path("says_yes").asBoolean();
            probabilities &= !j.path("yes_probability").isNull() && !j.path("yes_probability").isMissingNode();
            double p = j.path("yes_probability").asDouble();
            if (truth) {
                pos.add(p);
                posRight += yes ? 1 : 0;
            } else {
                neg.add(p);
                negRight += yes ? 0 : 1;
            }
        }
        List<Double> shares = new ArrayList<>();
        if (!pos.isEmpty()) {
            shares.add((double) posRight / pos.size());
        }
        if (!neg.isEmpty()) {
            shares.add((double) negRight / neg.size());
        }
        double balanced = shares.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double auroc = Double.NaN;
        if (probabilities && !pos.isEmpty() && !neg.isEmpty()) {
            double wins = 0;
            for (double a : pos) {
                for (double b : neg) {
                    wins += a > b ? 1 : a == b ? 0.5 : 0;
                }
            }
            auroc = wins / (pos.size() * neg.size());
        }
        return new double[] {balanced, auroc};
    }

    /**
     * Reads committed scores until {@code count} neurons have a simulation score and their judged
     * scores are in (into {@code judged}, by neuron and kind, those with a figure).
     */
    static Map<String, Double> readScores(KafkaClients clients, int count, Duration timeout, Map<String, String> texts,
                                          Map<String, Double> judged) {
        Map<String, Double> scores = new TreeMap<>();
        try (var consumer = new KafkaConsumer<>(clients.consumer("four-process-test"),
                AvroDeserializer.of(clients.registry(), ScoreKey.class), AvroDeserializer.of(clients.registry(), NeuronScore.class))) {
            consumer.subscribe(List.of(Topics.NEURON_SCORES));
            long deadline = System.nanoTime() + timeout.toNanos();
            java.util.Set<String> scoreIds = new java.util.HashSet<>();
            while (scoreIds.size() < 3 * count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(r -> {
                    NeuronScore s = r.value();
                    scoreIds.add(s.getScoreId());
                    String id = s.getNeuron().getLayer() + ":" + s.getNeuron().getNeuron();
                    if (s.getScorerKind().equals("simulation")) {
                        scores.put(id, s.getCorrelation());
                        texts.put(id, s.getExplanationText());
                    } else if (s.getBalancedAccuracy() != null) {
                        judged.put(id + "/" + s.getScorerKind(), s.getBalancedAccuracy());
                    }
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
