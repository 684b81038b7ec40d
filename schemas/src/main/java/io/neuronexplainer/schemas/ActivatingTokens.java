package io.neuronexplainer.schemas;

import java.util.ArrayList;
import java.util.List;

/**
 * Which tokens of a window "activate" the neuron, for the fuzzing scorer: those at or above half
 * of the window's max activation (at least its peak). Defined once because two stages must agree
 * on it without talking: the explainer marks these tokens in a true excerpt, and the scorer
 * recomputes them from the activations to tell a true marking from a false one. Relative to the
 * window's own peak, not zero as for sparse features: an MLP neuron's GELU output is rarely exactly 0.
 */
public final class ActivatingTokens {
    /** A token activates when it reaches this share of its window's max activation. */
    public static final double SHARE_OF_MAX = 0.5;

    private ActivatingTokens() {}

    /** The activating positions, ascending; empty when the window's max is not positive. */
    public static List<Integer> positions(List<Float> activations) {
        float max = Float.NEGATIVE_INFINITY;
        for (Float a : activations) {
            max = Math.max(max, a);
        }
        List<Integer> out = new ArrayList<>();
        if (!(max > 0)) {
            return out;
        }
        double threshold = SHARE_OF_MAX * max;
        for (int i = 0; i < activations.size(); i++) {
            if (activations.get(i) >= threshold) {
                out.add(i);
            }
        }
        return out;
    }
}
