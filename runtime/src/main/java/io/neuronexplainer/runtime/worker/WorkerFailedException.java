package io.neuronexplainer.runtime.worker;

import org.apache.kafka.common.KafkaException;

/**
 * The worker cannot go on for a reason other than fencing: its Kafka clients hit an error they do
 * not recover from (not authorised, an unsupported broker, a transaction that cannot be aborted,
 * transactions failing again and again). It stops; a restart starts from the committed offsets.
 */
public class WorkerFailedException extends KafkaException {
    public WorkerFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
