package io.neuronexplainer.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetryAfterTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void readsSecondsMillisAndHttpDates() {
        assertEquals(Optional.of(Duration.ofSeconds(3)), RetryAfter.parse(null, "3", NOW));
        assertEquals(Optional.of(Duration.ofMillis(1500)), RetryAfter.parse(null, "1.5", NOW));
        assertEquals(Optional.of(Duration.ofMillis(250)), RetryAfter.parse("250", "3", NOW));
        assertEquals(Optional.of(Duration.ofSeconds(90)),
                RetryAfter.parse(null, "Thu, 01 Jan 2026 00:01:30 GMT", NOW));
        assertEquals(Optional.of(Duration.ZERO), RetryAfter.parse(null, "Wed, 31 Dec 2025 23:00:00 GMT", NOW));
    }

    @Test
    void ignoresWhatItCannotRead() {
        assertTrue(RetryAfter.parse(null, "soon", NOW).isEmpty());
        assertTrue(RetryAfter.parse(null, "-4", NOW).isEmpty());
        assertTrue(RetryAfter.parse("", " ", NOW).isEmpty());
        assertEquals(Optional.of(Duration.ofSeconds(2)), RetryAfter.parse("x", "2", NOW));
    }

    @Test
    void backoffGrowsWithJitterAndIsCapped() {
        RetryPolicy p = new RetryPolicy(10, Duration.ofMillis(100), Duration.ofMillis(1000));
        for (int i = 0; i < 50; i++) {
            long first = p.backoff(1).toMillis();
            long third = p.backoff(3).toMillis();
            long tenth = p.backoff(10).toMillis();
            assertTrue(first >= 50 && first <= 100, "first " + first);
            assertTrue(third >= 200 && third <= 400, "third " + third);
            assertTrue(tenth >= 500 && tenth <= 1000, "capped " + tenth);
        }
    }
}
