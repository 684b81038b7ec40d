package io.neuronexplainer.llm;

import io.neuronexplainer.runtime.worker.ClassifiedFailure;
import io.neuronexplainer.runtime.worker.Fault;

/**
 * An LLM call that failed for good, after {@link #attempts()} tries, with the classification of
 * its last failure made where the HTTP status was still known.
 */
public class LlmException extends RuntimeException implements ClassifiedFailure {
    private final int attempts;
    private final Fault fault;

    /** A failure of no known class: classified by its cause, if any. */
    public LlmException(String message, int attempts, Throwable cause) {
        this(message, attempts, cause, null);
    }

    public LlmException(String message, int attempts, Throwable cause, Fault fault) {
        super(message, cause);
        this.attempts = attempts;
        this.fault = fault;
    }

    public int attempts() {
        return attempts;
    }

    /** The last failure's class, or null when it was not classified here. */
    @Override
    public Fault fault() {
        return fault;
    }
}
