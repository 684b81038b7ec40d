package io.neuronexplainer.explainer;

import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;

/**
 * The id of an explanation ({@link Identities#explanationId}): a hash of the neuron, the producer
 * run whose windows it explains, the method, model and prompt version, so a replay yields the same id.
 */
public final class ExplanationId {
    private ExplanationId() {}

    public static String of(NeuronActivations neuron, String method, String model, String promptVersion) {
        return Identities.explanationId(neuron.getNeuron(), neuron.getRun().getRunId(), method, model, promptVersion);
    }

    /** The id of the explanation {@code explainer} would write of {@code neuron}, known before it is written. */
    public static String of(NeuronActivations neuron, Explainer explainer) {
        return of(neuron, explainer.method(), explainer.model(), explainer.promptVersion());
    }
}
