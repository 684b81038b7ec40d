package io.neuronexplainer.runtime.worker;

import java.time.Duration;

/**
 * How one worker instance runs.
 *
 * @param instanceId unique within the group; its transactional id is {@code <groupId>-<instanceId>}
 * @param staticMember whether {@code instanceId} is also the consumer's {@code group.instance.id}:
 *        a restarted instance with the same id then takes over its partitions, and fences its dead
 *        predecessor's open transaction, at once instead of after the session and transaction timeouts
 * @param exitWhenIdle stop once no input arrived for this long and nothing is in flight; null = run until stopped
 * @param faultTiming how transient faults are retried and how a paused worker probes for the end of its fault
 * @param transactionTimeout the producer's {@code transaction.timeout.ms}: how long the broker lets an open transaction
 *        of this instance (e.g. of a killed process) hold back read_committed readers; null = the Kafka client's default
 */
public record WorkerSettings(String stage, String inputTopic, String groupId, String instanceId, boolean staticMember,
                             int maxInFlight, Duration exitWhenIdle, Duration commitInterval, Duration drainTimeout,
                             FaultTiming faultTiming, Duration transactionTimeout) {
    public WorkerSettings {
        if (transactionTimeout != null && transactionTimeout.toMillis() < 1000) {
            throw new IllegalArgumentException("--transaction-timeout-s must be at least 1, not " + transactionTimeout.toMillis() / 1000.0);
        }
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("--max-in-flight must be at least 1, not " + maxInFlight);
        }
        if (groupId == null || groupId.isBlank()) {
            throw new IllegalArgumentException("--group-id must not be empty");
        }
        if (instanceId == null || instanceId.isBlank() || !instanceId.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("--instance-id must be letters, digits, '.', '_' or '-', not '" + instanceId + "'");
        }
    }

    /** Defaults for code and tests: a random instance id, 100 ms commits, 30 s drain on stop. */
    public static WorkerSettings of(String stage, String inputTopic, String groupId, int maxInFlight) {
        return new WorkerSettings(stage, inputTopic, groupId, RandomInstanceId.next(), false, maxInFlight, null,
                Duration.ofMillis(100), Duration.ofSeconds(30), FaultTiming.defaults(), null);
    }

    public WorkerSettings withInstance(String id, boolean isStatic) {
        return new WorkerSettings(stage, inputTopic, groupId, id, isStatic, maxInFlight, exitWhenIdle, commitInterval, drainTimeout, faultTiming,
                transactionTimeout);
    }

    public WorkerSettings withExitWhenIdle(Duration idle) {
        return new WorkerSettings(stage, inputTopic, groupId, instanceId, staticMember, maxInFlight, idle, commitInterval, drainTimeout, faultTiming,
                transactionTimeout);
    }

    public WorkerSettings withFaultTiming(FaultTiming timing) {
        return new WorkerSettings(stage, inputTopic, groupId, instanceId, staticMember, maxInFlight, exitWhenIdle, commitInterval,
                drainTimeout, timing, transactionTimeout);
    }

    public WorkerSettings withTransactionTimeout(Duration timeout) {
        return new WorkerSettings(stage, inputTopic, groupId, instanceId, staticMember, maxInFlight, exitWhenIdle, commitInterval,
                drainTimeout, faultTiming, timeout);
    }

    public String transactionalId() {
        return groupId + "-" + instanceId;
    }
}
