package io.neuronexplainer.llm;

/** The model answered, but not in the form asked for; {@link LlmCaller} retries it. */
public class UnparseableOutputException extends RuntimeException {
    public UnparseableOutputException(String message) {
        super(message);
    }
}
