package io.neuronexplainer.explainer;

import io.neuronexplainer.schemas.ActivatingTokens;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.SimulationRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The fuzzing scorer's request: the neuron's scoring top windows with some tokens marked. In the first
 * half of them (after a shuffle seeded by the explanation) the marked tokens are the activating ones
 * ({@link ActivatingTokens}); in the rest, as many other tokens chosen at random. The request holds
 * only the marked positions; the scorer recomputes which markings are true from the activations.
 */
public final class FuzzingRequest {
    private FuzzingRequest() {}

    public static SimulationRequest of(NeuronActivations neuron, String explanationId, String text,
                                       int explainerPromptTokens, String explainerMethod) {
        Random random = ExcerptOrder.random(explanationId, Identities.FUZZING_SCORER);
        List<ActivationWindow> windows = new ArrayList<>();
        for (ActivationWindow w : neuron.getScoringTopWindows()) {
            List<Integer> activating = ActivatingTokens.positions(w.getActivations());
            // A window with no activating token, or nothing else to mark, cannot be marked both ways.
            if (!activating.isEmpty() && activating.size() < w.getTokens().size()) {
                windows.add(w);
            }
        }
        Collections.shuffle(windows, random);
        int trueHalf = (windows.size() + 1) / 2;
        List<Excerpt> excerpts = new ArrayList<>();
        for (int i = 0; i < windows.size(); i++) {
            ActivationWindow w = windows.get(i);
            List<Integer> activating = ActivatingTokens.positions(w.getActivations());
            List<Integer> marked = i < trueHalf ? activating : decoy(activating, w.getTokens().size(), random);
            excerpts.add(new Excerpt(w.getWindowIndex(), List.copyOf(w.getTokens()), marked));
        }
        // Shuffled again so the true markings are not the first ones shown.
        Collections.shuffle(excerpts, random);
        return ExcerptOrder.request(neuron, explanationId, text, explainerPromptTokens, explainerMethod,
                Identities.FUZZING_SCORER, excerpts);
    }

    /** As many positions as {@code activating} holds (or all the others, if fewer), none of them activating, ascending. */
    static List<Integer> decoy(List<Integer> activating, int length, Random random) {
        List<Integer> others = new ArrayList<>();
        for (int p = 0; p < length; p++) {
            if (!activating.contains(p)) {
                others.add(p);
            }
        }
        Collections.shuffle(others, random);
        List<Integer> chosen = new ArrayList<>(others.subList(0, Math.min(activating.size(), others.size())));
        Collections.sort(chosen);
        return chosen;
    }
}
