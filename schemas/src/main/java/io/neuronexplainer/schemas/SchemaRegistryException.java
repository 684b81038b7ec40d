package io.neuronexplainer.schemas;

import org.apache.kafka.common.errors.SerializationException;

/** A schema registry call failed: unreachable, refused, or the schema is incompatible. */
public class SchemaRegistryException extends SerializationException {
    private final int status;

    public SchemaRegistryException(String message, int status) {
        super(message);
        this.status = status;
    }

    public SchemaRegistryException(String message, Throwable cause) {
        super(message, cause);
        this.status = -1;
    }

    /** HTTP status of the registry's answer, or -1 when it gave none. */
    public int status() {
        return status;
    }
}
