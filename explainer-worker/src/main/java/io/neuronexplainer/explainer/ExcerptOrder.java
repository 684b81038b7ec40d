package io.neuronexplainer.explainer;

import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.SimulationRequest;
import java.util.List;
import java.util.Random;

/**
 * The seeded randomness of the judged scorers' requests: seeded by the explanation id and the kind, so
 * the same explanation always makes the same request (a retry or a re-run asks the judge the same thing).
 */
final class ExcerptOrder {
    private ExcerptOrder() {}

    /** java.util.Random's sequence is specified, so a seed gives the same shuffle on every JVM. */
    static Random random(String explanationId, String kind) {
        return new Random(Long.parseUnsignedLong(Identities.hash(explanationId, kind).substring(0, 16), 16));
    }

    static SimulationRequest request(NeuronActivations neuron, String explanationId, String text, int explainerPromptTokens,
                                     String explainerMethod, String kind, List<Excerpt> excerpts) {
        return new SimulationRequest(neuron.getNeuron(), explanationId, text, List.of(), neuron.getRun().getRunId(), null,
                explainerPromptTokens, explainerMethod, kind, excerpts);
    }
}
