package io.neuronexplainer.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronexplainer.launcher.bench.DelayedOpenAiServer;
import io.neuronexplainer.llm.test.OpenAiTestServer;
import io.neuronexplainer.llm.test.OpenAiTestServer.Reply;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo, in its own JVM, with an LLM that answers garbage to the explainer for a few neurons:
 * those neurons are dead-lettered by the explainer, and the demo counts each neuron once, treats
 * the dead-lettered ones as finished, says so, and ends well within its timeout with exit 0.
 * The LLM is a local OpenAI-format server: the benchmark's fake LLM answers every call, except
 * the explainer's calls for the first {@link #GARBLED} distinct prompts, answered blank every time.
 */
class DemoDeadLetterTest {
    static final String NEURONS = "0:0-39";
    static final int COUNT = 40;
    static final int GARBLED = 2;
    static final int TIMEOUT_S = 240;
    static final String EXPLAINER_MODEL = "explainer-under-test";
    private static final Pattern SUMMARY = Pattern.compile("neurons: +(\\d+) scored, (\\d+) dead-lettered: see neuron-activations-dlq");
    private static final Pattern WALL = Pattern.compile("wall time: ([0-9.]+) s in all");

    @Test
    void explainerDeadLettersFinishTheDemoAndAreReported(@TempDir Path dir) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        Set<String> garbled = new HashSet<>();
        Set<String> answered = new HashSet<>();
        try (DelayedOpenAiServer llm = DelayedOpenAiServer.start(0, 64);
             OpenAiTestServer server = OpenAiTestServer.start(r -> {
                 if (r.body() != null && EXPLAINER_MODEL.equals(r.body().path("model").asText())) {
                     String prompt = r.body().path("messages").toString();
                     synchronized (garbled) {
                         if (garbled.contains(prompt) || !answered.contains(prompt) && garbled.size() < GARBLED) {
                             garbled.add(prompt);
                             return Reply.json(OpenAiTestServer.chatCompletion(EXPLAINER_MODEL, "  \n "));
                         }
                         answered.add(prompt);
                     }
                 }
                 return forward(http, llm, r);
             })) {
            Path results = dir.resolve("results");
            var run = CliProcess.run(dir.resolve("demo.err"), TIMEOUT_S + 60, "demo", "--neurons", NEURONS,
                    "--windows", "300", "--llm-base-url", server.baseUrl(), "--explainer-model", EXPLAINER_MODEL,
                    "--simulator-model", "simulator-under-test", "--timeout-s", Integer.toString(TIMEOUT_S),
                    "--results", results.toString(), "--data-dir", dir.resolve("demo").toString());
            assertEquals(0, run.exitCode(), () -> "demo failed: " + CliProcess.lastLines(run.stderr(), 20));

            Matcher summary = SUMMARY.matcher(run.stdout());
            assertTrue(summary.find(), run.stdout());
            int scored = Integer.parseInt(summary.group(1));
            int dead = Integer.parseInt(summary.group(2));
            // Neurons with the same top windows share a prompt, so a garbled prompt may stand for more than one.
            assertTrue(dead >= GARBLED, run.stdout());
            assertEquals(COUNT, scored + dead, "each neuron counted once: " + run.stdout());
            assertEquals(dead, run.stdout().lines().filter(l -> l.contains("explainer-worker: ")
                    && l.contains("empty explanation")).count(), run.stdout());

            Matcher wall = WALL.matcher(run.stdout());
            assertTrue(wall.find(), run.stdout());
            assertTrue(Double.parseDouble(wall.group(1)) < TIMEOUT_S / 2.0, "the demo did not wait for the dead-lettered: "
                    + wall.group(0));

            List<Path> files;
            try (var list = Files.list(results)) {
                files = list.toList();
            }
            assertEquals(1, files.size());
            List<String> lines = Files.readAllLines(files.get(0));
            assertEquals(COUNT, lines.size(), "one result line per neuron");
            ObjectMapper json = new ObjectMapper();
            long withBest = 0;
            for (String line : lines) {
                withBest += json.readTree(line).path("best_explanation").isObject() ? 1 : 0;
            }
            assertEquals(scored, withBest, "a best explanation for each scored neuron, none for the dead-lettered");
        }
    }

    /** Hands the request to the benchmark's fake LLM and returns its answer. */
    private static Reply forward(HttpClient http, DelayedOpenAiServer llm, OpenAiTestServer.Request r) {
        try {
            String base = llm.baseUrl().substring(0, llm.baseUrl().length() - "/v1".length());
            JsonNode body = r.body();
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(base + r.path()))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body == null ? "" : body.toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            return Reply.status(answer.statusCode(), answer.body());
        } catch (Exception e) {
            return Reply.status(500, "{\"error\":{\"message\":" + OpenAiTestServer.quote(e.toString()) + "}}");
        }
    }
}
