package io.neuronexplainer.llm;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How often and how patiently an LLM call is retried: at most {@code maxAttempts} tries,
 * exponential backoff from {@code initialBackoff} doubling up to {@code maxBackoff}, with jitter.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("--llm-max-attempts must be at least 1, got " + maxAttempts);
        }
        if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("backoff must satisfy 0 <= initial <= max, got "
                    + initialBackoff.toMillis() + " ms and " + maxBackoff.toMillis() + " ms");
        }
    }

    public static RetryPolicy of(int maxAttempts, Duration initialBackoff) {
        Duration max = Duration.ofSeconds(30);
        return new RetryPolicy(maxAttempts, initialBackoff, initialBackoff.compareTo(max) > 0 ? initialBackoff : max);
    }

    /**
     * The wait before attempt {@code failedAttempts + 1}: the exponential step times a jitter
     * factor in [0.5, 1.0), so that many workers throttled together do not retry in lockstep
     * while the wait still grows with every failure.
     */
    public Duration backoff(int failedAttempts) {
        long base = initialBackoff.toMillis();
        long step = base << Math.min(30, Math.max(0, failedAttempts - 1));
        long capped = Math.min(maxBackoff.toMillis(), step < 0 ? Long.MAX_VALUE : step);
        double jitter = 0.5 + 0.5 * ThreadLocalRandom.current().nextDouble();
        return Duration.ofMillis(Math.round(capped * jitter));
    }
}
