package io.neuronexplainer.runtime.worker;

/** What a failure means for the record that met it, and so what the worker does with it. */
public enum FaultClass {
    /** Nobody's fault and likely gone soon (a service unreachable, overloaded or slow): retried with backoff, never a dead letter. */
    TRANSIENT,
    /** Would fail every record alike (credentials refused, model missing, our schema refused): the worker pauses until it clears. */
    FAILS_EVERY_RECORD,
    /** The record itself cannot be processed (undecodable, unusable answers for it, wrong shapes): a dead letter with the reason. */
    BAD_RECORD
}
