package io.neuronexplainer.llm;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Reads a server's requested wait: {@code retry-after-ms} (OpenAI's), else {@code Retry-After}
 * as delta-seconds or an HTTP date (RFC 9110). Hand-written because the SDK keeps its parser
 * private to its own retry loop, which we turn off (see {@link LlmCaller}).
 */
public final class RetryAfter {
    private RetryAfter() {}

    public static Optional<Duration> parse(String retryAfterMs, String retryAfter, Instant now) {
        if (retryAfterMs != null && !retryAfterMs.isBlank()) {
            try {
                double ms = Double.parseDouble(retryAfterMs.trim());
                if (ms >= 0 && Double.isFinite(ms)) {
                    return Optional.of(Duration.ofMillis(Math.round(ms)));
                }
            } catch (NumberFormatException ignored) {
                // fall through to Retry-After
            }
        }
        if (retryAfter == null || retryAfter.isBlank()) {
            return Optional.empty();
        }
        String v = retryAfter.trim();
        try {
            double seconds = Double.parseDouble(v);
            return seconds >= 0 && Double.isFinite(seconds)
                    ? Optional.of(Duration.ofMillis(Math.round(seconds * 1000))) : Optional.empty();
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration d = Duration.between(now, at);
                return Optional.of(d.isNegative() ? Duration.ZERO : d);
            } catch (DateTimeParseException notDate) {
                return Optional.empty();
            }
        }
    }
}
