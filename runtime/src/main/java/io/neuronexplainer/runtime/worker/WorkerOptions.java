package io.neuronexplainer.runtime.worker;

import java.time.Duration;
import io.neuronexplainer.runtime.MetricsOptions;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The flags every transactional worker command shares (a picocli mixin). */
public class WorkerOptions {
    @Option(names = "--max-in-flight", defaultValue = "16",
            description = "Records processed at once, i.e. LLM calls in flight (default: ${DEFAULT-VALUE}).")
    int maxInFlight = 16;

    @Option(names = "--group-id", description = "Consumer group; instances in one group share the input's partitions (default: the stage name).")
    String groupId;

    @Option(names = "--instance-id", defaultValue = "${env:NEURON_INSTANCE_ID}",
            description = "Stable id of this instance (e.g. a StatefulSet pod name), unique in the group: a restart with the same id "
                    + "takes over at once (static membership, and its transactional id fences the dead instance's open transaction). "
                    + "Default: a random id. Env: NEURON_INSTANCE_ID.")
    String instanceId;

    @Option(names = "--exit-when-idle", paramLabel = "SECONDS",
            description = "Stop once no input arrived for this long and nothing is in flight (default: run until SIGTERM).")
    Double exitWhenIdle;

    @Option(names = "--commit-interval-ms", defaultValue = "100",
            description = "How often finished records are committed, outputs and offsets in one transaction (default: ${DEFAULT-VALUE}).")
    long commitIntervalMs = 100;

    @Mixin
    MetricsOptions metrics = new MetricsOptions();

    @Option(names = "--pause-probe-s", defaultValue = "15",
            description = "While paused by a fault that would fail every record (e.g. the LLM refusing our key), how often the held "
                    + "record is tried again to see whether the fault cleared (default: ${DEFAULT-VALUE}).")
    double pauseProbeS = 15;

    @Option(names = "--transaction-timeout-s", paramLabel = "SECONDS",
            description = "How long the broker lets an open transaction of this instance (e.g. of a killed process) hold back "
                    + "read_committed readers before aborting it (default: the Kafka client's, 60).")
    Integer transactionTimeoutS;

    public int metricsPort() {
        return metrics.port();
    }

    public String metricsHost() {
        return metrics.host();
    }

    public WorkerSettings settings(String stage, String inputTopic) {
        if (exitWhenIdle != null && exitWhenIdle <= 0) {
            throw new IllegalArgumentException("--exit-when-idle must be positive, not " + exitWhenIdle);
        }
        if (commitIntervalMs < 1) {
            throw new IllegalArgumentException("--commit-interval-ms must be at least 1, not " + commitIntervalMs);
        }
        if (pauseProbeS <= 0) {
            throw new IllegalArgumentException("--pause-probe-s must be positive, not " + pauseProbeS);
        }
        FaultTiming defaults = FaultTiming.defaults();
        FaultTiming timing = new FaultTiming(defaults.firstRetry(), defaults.maxRetry(),
                Duration.ofMillis(Math.round(pauseProbeS * 1000)), defaults.pausedLogEvery());
        boolean stable = instanceId != null && !instanceId.isBlank();
        return new WorkerSettings(stage, inputTopic, groupId == null ? stage : groupId,
                stable ? instanceId : RandomInstanceId.next(), stable, maxInFlight,
                exitWhenIdle == null ? null : Duration.ofMillis(Math.round(exitWhenIdle * 1000)),
                Duration.ofMillis(commitIntervalMs), Duration.ofSeconds(30), timing,
                transactionTimeoutS == null ? null : Duration.ofSeconds(transactionTimeoutS));
    }
}
