package io.neuronexplainer.llm;

/** An LLM call that failed for good, after {@link #attempts()} tries. */
public class LlmException extends RuntimeException {
    private final int attempts;

    public LlmException(String message, int attempts, Throwable cause) {
        super(message, cause);
        this.attempts = attempts;
    }

    public int attempts() {
        return attempts;
    }
}
