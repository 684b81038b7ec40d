package io.neuronexplainer.explainer;

import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.SimulationRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * The detection scorer's request: the neuron's scoring top windows (positives) and the scoring random
 * windows on which it stays quiet (negatives), shuffled, as plain excerpts. Which are which is not in
 * the request: the scorer tells them apart by window index in the neuron's activations.
 */
public final class DetectionRequest {
    /** A random window is a negative when its max activation is under this share of the neuron's max. */
    public static final double QUIET_BELOW = 0.1;

    private DetectionRequest() {}

    public static SimulationRequest of(NeuronActivations neuron, String explanationId, String text,
                                       int explainerPromptTokens, String explainerMethod) {
        return of(neuron, explanationId, text, explainerPromptTokens, explainerMethod, QUIET_BELOW);
    }

    /** As above with the quiet threshold as a share of the neuron's max activation. */
    public static SimulationRequest of(NeuronActivations neuron, String explanationId, String text,
                                       int explainerPromptTokens, String explainerMethod, double quietBelow) {
        List<Excerpt> excerpts = new ArrayList<>();
        for (ActivationWindow w : neuron.getScoringTopWindows()) {
            excerpts.add(new Excerpt(w.getWindowIndex(), List.copyOf(w.getTokens()), List.of()));
        }
        double quiet = quietBelow * neuron.getStats().getMaxActivation();
        for (ActivationWindow w : neuron.getScoringRandomWindows()) {
            if (w.getMaxActivation() < quiet) {
                excerpts.add(new Excerpt(w.getWindowIndex(), List.copyOf(w.getTokens()), List.of()));
            }
        }
        java.util.Collections.shuffle(excerpts, ExcerptOrder.random(explanationId, Identities.DETECTION_SCORER));
        return ExcerptOrder.request(neuron, explanationId, text, explainerPromptTokens, explainerMethod,
                Identities.DETECTION_SCORER, excerpts);
    }
}
