package io.neuronexplainer.runtime.worker;

import org.apache.kafka.common.KafkaException;

/**
 * Another instance took over this worker's transactional id or static group membership: this
 * instance must stop, since it can no longer commit. Other fatal errors are {@link WorkerFailedException}.
 */
public class WorkerFencedException extends KafkaException {
    public WorkerFencedException(String message, Throwable cause) {
        super(message, cause);
    }
}
