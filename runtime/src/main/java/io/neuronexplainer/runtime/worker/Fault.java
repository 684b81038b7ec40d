package io.neuronexplainer.runtime.worker;

/**
 * A classified failure.
 *
 * @param kind what the worker does about it
 * @param reason a short, low-cardinality name for metrics and logs, e.g. {@code llm_unauthorized}
 */
public record Fault(FaultClass kind, String reason) {
    public boolean is(FaultClass k) {
        return kind == k;
    }
}
