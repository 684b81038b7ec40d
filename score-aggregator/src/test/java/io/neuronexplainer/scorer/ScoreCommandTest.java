package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.neuronexplainer.runtime.test.StandardError;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Bad command-line input: one line naming the problem, exit 1, before anything starts. */
class ScoreCommandTest {
    @Test
    void negativeIdleTimeIsRefused() {
        int[] exit = new int[1];
        String err = StandardError.of(() -> exit[0] = new CommandLine(new ScoreCommand()).execute("--exit-when-idle", "-1"));
        assertEquals(1, exit[0]);
        assertEquals("error: --exit-when-idle must be >= 0, got -1", err.strip());
    }

    @Test
    void badOrphanTimeoutsAreRefused() {
        int[] exit = new int[1];
        String err = StandardError.of(() -> exit[0] = new CommandLine(new ScoreCommand()).execute("--orphan-timeout", "soon"));
        assertEquals(1, exit[0]);
        assertEquals("error: --orphan-timeout: not a duration: 'soon' (e.g. 3600, 90s, 30m, 1h or PT1H)", err.strip());
        err = StandardError.of(() -> exit[0] = new CommandLine(new ScoreCommand()).execute("--orphan-timeout", "0"));
        assertEquals(1, exit[0]);
        assertEquals("error: --orphan-timeout must be positive, got PT0S", err.strip());
    }

    @Test
    void threadsDefaultToOnePerCoreAndNegativeOnesAreRefused() {
        assertEquals(Math.min(ScorerSettings.MAX_DEFAULT_THREADS, Runtime.getRuntime().availableProcessors()), ScorerSettings.threads(0));
        assertEquals(3, ScorerSettings.threads(3));
        int[] exit = new int[1];
        String err = StandardError.of(() -> exit[0] = new CommandLine(new ScoreCommand()).execute("--threads", "-1"));
        assertEquals(1, exit[0]);
        assertEquals("error: --threads must be 0 (one per core) or more, got -1", err.strip());
    }

    @Test
    void orphanTimeoutsReadAsSecondsUnitsOrIso() {
        assertEquals(java.time.Duration.ofSeconds(90), DurationText.parse("90"));
        assertEquals(java.time.Duration.ofSeconds(90), DurationText.parse("90s"));
        assertEquals(java.time.Duration.ofMinutes(30), DurationText.parse("30m"));
        assertEquals(java.time.Duration.ofHours(1), DurationText.parse("1h"));
        assertEquals(java.time.Duration.ofHours(1), DurationText.parse("PT1H"));
        assertEquals(java.time.Duration.ofMillis(1500), DurationText.parse("1500ms"));
        assertEquals("1 h", DurationText.format(java.time.Duration.ofHours(1)));
        assertEquals("90 s", DurationText.format(java.time.Duration.ofSeconds(90)));
        assertEquals("1500 ms", DurationText.format(java.time.Duration.ofMillis(1500)));
    }
}
