package io.neuronexplainer.bench.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.test.StandardError;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bench producer --corpus}: the producer end to end beside the forward pass, on the demo model. */
class ProducerBenchCommandTest {
    @TempDir
    Path dir;

    @Test
    void endToEndEmitsEveryNeuronAndComparesWithTheForwardPass() throws Exception {
        Path corpus = dir.resolve("corpus.txt");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 400; i++) {
            text.append("The committee voted on the report about fisheries and the budget of the year ").append(i).append(". ");
        }
        Files.writeString(corpus, text);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        int exit;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            exit = new CommandLine(new ProducerBenchCommand()).execute("--windows", "32", "--batch", "16",
                    "--corpus", corpus.toString());
        } finally {
            System.setOut(stdout);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, out);
        // The demo model: 6 layers x 512 neurons, each one record, after the windows the corpus gave.
        Matcher run = Pattern.compile("end to end over .*: (\\d+) windows, (\\d+) tokens, (\\d+) neuron records").matcher(out);
        assertTrue(run.find(), out);
        assertEquals(3072, Long.parseLong(run.group(3)), out);
        assertEquals(64 * Long.parseLong(run.group(1)), Long.parseLong(run.group(2)), out);
        assertTrue(out.contains("where the end-to-end run's CPU went: cpu_s="), out);
        assertTrue(out.matches("(?s).*broker and registry settled after [0-9.]+ s\\n.*"), out);
        assertTrue(out.contains("GEMM peak after the end-to-end run: "), out);
        String[] lines = out.strip().split("\n");
        Matcher last = Pattern.compile("^end_to_end_tokens_per_s=([0-9.]+) forward_tokens_per_s=([0-9.]+) end_to_end_ratio=([0-9.]+)$")
                .matcher(lines[lines.length - 1]);
        assertTrue(last.find(), lines[lines.length - 1]);
        double ratio = Double.parseDouble(last.group(3));
        assertEquals(Double.parseDouble(last.group(1)) / Double.parseDouble(last.group(2)), ratio, 0.002);
        assertTrue(ratio > 0 && ratio < 1.5, "end to end cannot be much faster than its own forward pass: " + ratio);
    }

    @Test
    void aMissingCorpusIsOneLineBeforeAnythingStarts() {
        int[] exit = new int[1];
        String err = StandardError.of(() -> exit[0] = new CommandLine(new ProducerBenchCommand())
                .execute("--windows", "8", "--corpus", dir.resolve("nope.txt").toString()));
        assertEquals(1, exit[0]);
        assertTrue(err.startsWith("error: --corpus " + dir.resolve("nope.txt") + ": no such file or folder"), err);
    }
}
