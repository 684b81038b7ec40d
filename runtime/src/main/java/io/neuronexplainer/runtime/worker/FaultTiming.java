package io.neuronexplainer.runtime.worker;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How patiently a worker waits out faults.
 *
 * @param firstRetry the wait before a record that met a transient fault is tried again; it doubles per retry
 * @param maxRetry the longest such wait
 * @param probeEvery while paused, how often the held record is tried again to see whether the fault cleared
 * @param pausedLogEvery while paused, how often one line says so
 */
public record FaultTiming(Duration firstRetry, Duration maxRetry, Duration probeEvery, Duration pausedLogEvery) {
    public FaultTiming {
        if (firstRetry.isNegative() || maxRetry.compareTo(firstRetry) < 0 || probeEvery.isNegative() || pausedLogEvery.isNegative()) {
            throw new IllegalArgumentException("fault timing must be positive with first retry <= max retry, not " + firstRetry
                    + ", " + maxRetry + ", " + probeEvery + ", " + pausedLogEvery);
        }
    }

    /** Retries from 1 s up to 30 s, a probe every 15 s while paused, a line a minute. */
    public static FaultTiming defaults() {
        return new FaultTiming(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofMinutes(1));
    }

    /** The wait before retry number {@code retry} (1 = the first), with jitter so workers do not retry in lockstep. */
    public Duration retryWait(int retry) {
        long step = firstRetry.toMillis() << Math.min(20, Math.max(0, retry - 1));
        long capped = Math.min(maxRetry.toMillis(), step);
        return Duration.ofMillis(Math.round(capped * (0.75 + 0.25 * ThreadLocalRandom.current().nextDouble())));
    }
}
