package io.neuronexplainer.runtime.worker;

/**
 * A failure that carries its classification, made by {@link Faults} where the details were still
 * known (an LLM client knows the HTTP status its SDK saw; the worker only sees the final exception).
 */
public interface ClassifiedFailure {
    Fault fault();
}
