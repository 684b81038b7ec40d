package io.neuronexplainer.scorer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * How to run a scorer: its Streams application id (its consumer group, state and internal
 * topics), local state directory, HTTP endpoint (port 0 = a free one, -1 = none), stream
 * threads, extra Streams properties (e.g. a shorter session timeout), how long a simulation
 * may wait for its activations before it is dead-lettered as an orphan, and, when explanations
 * are reused across checkpoints, the share of its old score a carried explanation must keep
 * (null: every neuron of every checkpoint is explained).
 */
public record ScorerSettings(String applicationId, Path stateDir, String httpHost, int httpPort, int threads,
                             Map<String, Object> streamsOverrides, Duration orphanTimeout, Double reuseThreshold) {
    public static final Duration DEFAULT_ORPHAN_TIMEOUT = Duration.ofHours(1);

    /** The most stream threads "one per core" gives: the join has a task per partition, 6 by default. */
    public static final int MAX_DEFAULT_THREADS = 6;

    /**
     * The stream threads a {@code --threads} option asks for, 0 meaning one per core (at most
     * {@value #MAX_DEFAULT_THREADS}: on a big host without a CPU limit, threads beyond the join's
     * tasks would sit idle): the default, since one thread is bound by its own work (bench scorer:
     * ~1.6 of 2 cores busy with one, ~1.9 with two).
     */
    public static int threads(int asked) {
        if (asked < 0) {
            throw new IllegalArgumentException("--threads must be 0 (one per core) or more, got " + asked);
        }
        return asked == 0 ? Math.min(MAX_DEFAULT_THREADS, Runtime.getRuntime().availableProcessors()) : asked;
    }

    public ScorerSettings {
        streamsOverrides = Map.copyOf(streamsOverrides);
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        if (orphanTimeout == null || orphanTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("--orphan-timeout must be positive, got " + orphanTimeout);
        }
        if (reuseThreshold != null && !(reuseThreshold > 0 && reuseThreshold <= 1)) {
            throw new IllegalArgumentException("--reuse-threshold must be in (0, 1], got " + reuseThreshold);
        }
    }

    public ScorerSettings(String applicationId, Path stateDir, String httpHost, int httpPort, int threads,
                          Map<String, Object> streamsOverrides, Duration orphanTimeout) {
        this(applicationId, stateDir, httpHost, httpPort, threads, streamsOverrides, orphanTimeout, null);
    }

    public ScorerSettings(String applicationId, Path stateDir, String httpHost, int httpPort, int threads,
                          Map<String, Object> streamsOverrides) {
        this(applicationId, stateDir, httpHost, httpPort, threads, streamsOverrides, DEFAULT_ORPHAN_TIMEOUT);
    }

    public static ScorerSettings defaults(String applicationId, Path stateDir) {
        return new ScorerSettings(applicationId, stateDir, "127.0.0.1", 0, 1, Map.of());
    }

    public ScorerSettings withHttpPort(int port) {
        return new ScorerSettings(applicationId, stateDir, httpHost, port, threads, streamsOverrides, orphanTimeout, reuseThreshold);
    }

    public ScorerSettings withOverrides(Map<String, Object> overrides) {
        return new ScorerSettings(applicationId, stateDir, httpHost, httpPort, threads, overrides, orphanTimeout, reuseThreshold);
    }

    public ScorerSettings withThreads(int n) {
        return new ScorerSettings(applicationId, stateDir, httpHost, httpPort, n, streamsOverrides, orphanTimeout, reuseThreshold);
    }

    public ScorerSettings withOrphanTimeout(Duration timeout) {
        return new ScorerSettings(applicationId, stateDir, httpHost, httpPort, threads, streamsOverrides, timeout, reuseThreshold);
    }

    /** Explanations reused across checkpoints when the carried one keeps {@code threshold} of its old score. */
    public ScorerSettings withReuse(Double threshold) {
        return new ScorerSettings(applicationId, stateDir, httpHost, httpPort, threads, streamsOverrides, orphanTimeout, threshold);
    }
}
