package io.neuronexplainer.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo, in its own JVM, with an LLM that answers garbage to the explainer for a few neurons
 * ({@link GarblingLlm}): those neurons are dead-lettered by the explainer, and the demo counts
 * each neuron once, treats the dead-lettered ones as finished, says so, and ends well within its
 * timeout with exit 0, both on one checkpoint and following a training run's three.
 */
class DemoDeadLetterTest {
    static final int GARBLED = 2;
    static final int TIMEOUT_S = 240;
    static final String EXPLAINER_MODEL = "explainer-under-test";
    private static final Pattern SUMMARY = Pattern.compile("neurons: +(\\d+) scored, (\\d+) dead-lettered: see neuron-activations-dlq");
    private static final Pattern WALL = Pattern.compile("wall time: ([0-9.]+) s in all");

    @Test
    void explainerDeadLettersFinishTheDemoAndAreReported(@TempDir Path dir) throws Exception {
        int count = 40;
        Path results = dir.resolve("results");
        int scored = runDemo(dir, count, results, "--neurons", "0:0-39");
        List<Path> files;
        try (var list = Files.list(results)) {
            files = list.toList();
        }
        assertEquals(1, files.size());
        List<String> lines = Files.readAllLines(files.get(0));
        assertEquals(count, lines.size(), "one result line per neuron");
        ObjectMapper json = new ObjectMapper();
        long withBest = 0;
        for (String line : lines) {
            withBest += json.readTree(line).path("best_explanation").isObject() ? 1 : 0;
        }
        assertEquals(scored, withBest, "a best explanation for each scored neuron, none for the dead-lettered");
    }

    @Test
    void aFollowedTrainingRunFinishesWithDeadLetters(@TempDir Path dir) throws Exception {
        runDemo(dir, 3 * 20, dir.resolve("results"), "--follow", "--neurons", "0:0-19");
    }

    /** Runs the demo against a garbling LLM, checks what it says of scored and dead-lettered neurons, and returns the scored. */
    private static int runDemo(Path dir, int count, Path results, String... args) throws Exception {
        try (GarblingLlm llm = new GarblingLlm(EXPLAINER_MODEL, GARBLED)) {
            List<String> command = new ArrayList<>(List.of("demo", "--windows", "300", "--llm-base-url", llm.baseUrl(),
                    "--explainer-model", EXPLAINER_MODEL, "--simulator-model", "simulator-under-test",
                    "--timeout-s", Integer.toString(TIMEOUT_S), "--results", results.toString(),
                    "--data-dir", dir.resolve("demo").toString()));
            command.addAll(List.of(args));
            var run = CliProcess.run(dir.resolve("demo.err"), TIMEOUT_S + 60, command.toArray(String[]::new));
            assertEquals(0, run.exitCode(), () -> "demo failed: " + CliProcess.lastLines(run.stderr(), 20));
            System.out.println(run.stdout());

            Matcher summary = SUMMARY.matcher(run.stdout());
            assertTrue(summary.find(), run.stdout());
            int scored = Integer.parseInt(summary.group(1));
            int dead = Integer.parseInt(summary.group(2));
            // Neurons with the same top windows share a prompt, so a garbled prompt may stand for more than one.
            assertTrue(dead >= GARBLED, run.stdout());
            assertEquals(count, scored + dead, "each neuron counted once: " + run.stdout());
            assertEquals(Math.min(dead, 10), run.stdout().lines().filter(l -> l.contains("explainer-worker: ")
                    && l.contains("empty explanation")).count(), run.stdout());

            Matcher wall = WALL.matcher(run.stdout());
            assertTrue(wall.find(), run.stdout());
            assertTrue(Double.parseDouble(wall.group(1)) < TIMEOUT_S / 2.0, "the demo did not wait for the dead-lettered: "
                    + wall.group(0));
            return scored;
        }
    }
}
