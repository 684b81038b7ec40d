package io.neuronexplainer.explainer;

import io.neuronexplainer.schemas.NeuronActivations;
import java.util.concurrent.CompletableFuture;

/**
 * Writes a one-line explanation of a neuron from its explanation windows. Implementations
 * retry what is worth retrying themselves; a failed future is final (it becomes a dead letter).
 */
public interface Explainer extends AutoCloseable {
    /** The method's name as recorded in Explanation.explainer_method. */
    String method();

    /** The model used, or "none". */
    String model();

    /**
     * The version of the prompt its explanations are written with, as recorded in
     * Explanation.prompt_version: part of the explanation id, which the worker needs before the call.
     */
    String promptVersion();

    CompletableFuture<ExplainerResult> explain(NeuronActivations neuron);

    @Override
    default void close() {}
}
