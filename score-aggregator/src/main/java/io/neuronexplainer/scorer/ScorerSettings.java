package io.neuronexplainer.scorer;

import java.nio.file.Path;
import java.util.Map;

/**
 * How to run a scorer: its Streams application id (its consumer group, state and internal
 * topics), local state directory, HTTP endpoint (port 0 = a free one, -1 = none), stream
 * threads, and extra Streams properties (e.g. a shorter session timeout).
 */
public record ScorerSettings(String applicationId, Path stateDir, String httpHost, int httpPort, int threads,
                             Map<String, Object> streamsOverrides) {
    public ScorerSettings {
        streamsOverrides = Map.copyOf(streamsOverrides);
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
    }

    public static ScorerSettings defaults(String applicationId, Path stateDir) {
        return new ScorerSettings(applicationId, stateDir, "127.0.0.1", 0, 1, Map.of());
    }

    public ScorerSettings withHttpPort(int port) {
        return new ScorerSettings(applicationId, stateDir, httpHost, port, threads, streamsOverrides);
    }

    public ScorerSettings withOverrides(Map<String, Object> overrides) {
        return new ScorerSettings(applicationId, stateDir, httpHost, httpPort, threads, overrides);
    }

    public ScorerSettings withThreads(int n) {
        return new ScorerSettings(applicationId, stateDir, httpHost, httpPort, n, streamsOverrides);
    }
}
