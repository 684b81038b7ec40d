package io.neuronexplainer.runtime.worker;

import org.apache.kafka.common.KafkaException;

/**
 * Another instance took over this worker's transactional id or static group membership (or the
 * producer hit another fatal error): this instance must stop, since it can no longer commit.
 */
public class WorkerFencedException extends KafkaException {
    public WorkerFencedException(String message, Throwable cause) {
        super(message, cause);
    }
}
