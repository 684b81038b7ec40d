package io.neuronexplainer.bench.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.test.StandardError;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Bad command-line input to {@code bench scorer}: one line naming the problem, exit 1, before anything starts. */
class ScorerBenchCommandTest {
    @Test
    void benchNeedsAtLeastOneNeuron() {
        int[] exit = new int[1];
        String err = StandardError.of(() -> exit[0] = new CommandLine(new ScorerBenchCommand()).execute("--neurons", "0"));
        assertEquals(1, exit[0]);
        assertTrue(err.startsWith("error: --neurons must be at least 1"), err);
    }
}
