package io.neuronexplainer.bench.chaos;

import java.nio.file.Path;

/**
 * How a chaos run goes: how many neurons and faults, and the pace. The LLM's delay and the calls
 * in flight per worker set how long the neurons take to flow through (3 workers per stage finish
 * about {@code 3 * maxInFlight / llmLatency} neurons a second), so the faults land while they flow.
 *
 * @param neurons how many of the demo model's neurons to produce, explain, simulate and score (layer by layer from 0:0)
 * @param kills how many times a worker process is killed with SIGKILL, explainer and simulator in turn
 * @param windows 64-token corpus windows the producer reads (a small pass keeps the run about the pipeline)
 * @param llmTimeoutS the workers' {@code --llm-timeout-s}; the LLM's held calls last longer
 * @param brokerDownS how long the stopped broker stays down
 * @param poisonPerTopic undecodable records written into each topic a stage consumes
 * @param timeoutS the whole run's limit
 * @param dir where brokers, registry, scorers and worker logs keep their files
 */
public record ChaosSettings(int neurons, int kills, long seed, double faultRate, long windows, long llmLatencyMs,
                            int maxInFlight, int llmTimeoutS, int llmMaxAttempts, long llmBackoffMs, int transactionTimeoutS,
                            int brokerDownS, int poisonPerTopic, int partitions, long timeoutS, Path dir) {
    /** Worker threads per stage in the bench JVM, beside the one killable process per stage. */
    public static final int THREAD_WORKERS_PER_STAGE = 2;

    public ChaosSettings {
        positive("--neurons", neurons);
        positive("--windows", windows);
        positive("--llm-latency-ms", llmLatencyMs);
        positive("--max-in-flight", maxInFlight);
        positive("--llm-timeout-s", llmTimeoutS);
        positive("--llm-max-attempts", llmMaxAttempts);
        positive("--transaction-timeout-s", transactionTimeoutS);
        positive("--partitions", partitions);
        positive("--timeout-s", timeoutS);
        if (kills < 0 || brokerDownS < 0 || poisonPerTopic < 0 || llmBackoffMs < 0) {
            throw new IllegalArgumentException("--kills, --broker-down-s, --poison and --llm-backoff-ms must not be negative");
        }
        if (faultRate < 0 || faultRate > 0.5) {
            throw new IllegalArgumentException("--fault-rate must be between 0 and 0.5, not " + faultRate);
        }
        if (llmLatencyMs >= llmTimeoutS * 1000L) {
            throw new IllegalArgumentException("--llm-latency-ms (" + llmLatencyMs + ") must be below --llm-timeout-s ("
                    + llmTimeoutS + " s), or every call times out");
        }
    }

    private static void positive(String flag, long value) {
        if (value < 1) {
            throw new IllegalArgumentException(flag + " must be positive, not " + value);
        }
    }

    /** Workers per stage: the threads and the process. */
    public int workersPerStage() {
        return THREAD_WORKERS_PER_STAGE + 1;
    }
}
