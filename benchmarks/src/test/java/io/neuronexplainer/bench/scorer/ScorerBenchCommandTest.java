package io.neuronexplainer.bench.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Bad command-line input to {@code bench scorer}: one line naming the problem, exit 1, before anything starts. */
class ScorerBenchCommandTest {
    static String stderrOf(Runnable body) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setErr(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void benchNeedsAtLeastOneNeuron() {
        int[] exit = new int[1];
        String err = stderrOf(() -> exit[0] = new CommandLine(new ScorerBenchCommand()).execute("--neurons", "0"));
        assertEquals(1, exit[0]);
        assertTrue(err.startsWith("error: --neurons must be at least 1"), err);
    }
}
