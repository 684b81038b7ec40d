package io.neuronexplainer.explainer;

import io.neuronexplainer.schemas.ActivationWindow;
import java.util.ArrayList;
import java.util.List;

/**
 * The prompts' 0-10 scale: {@code min(10, floor(10 * max(0, a) / max_a))}, with {@code max_a}
 * the neuron's maximum over its explanation windows; negatives (and NaN) count as 0.
 */
public final class ActivationScale {
    private final double maxActivation;

    public ActivationScale(double maxActivation) {
        this.maxActivation = maxActivation;
    }

    /** The scale whose 10 is the maximum activation over these windows. */
    public static ActivationScale over(List<ActivationWindow> windows) {
        double max = 0;
        for (ActivationWindow w : windows) {
            for (Float a : w.getActivations()) {
                if (a != null && a > max) {
                    max = a;
                }
            }
        }
        return new ActivationScale(max);
    }

    public double maxActivation() {
        return maxActivation;
    }

    public int scale(double activation) {
        // A neuron that never fires positively on its windows has nothing to show: all 0.
        if (!(maxActivation > 0) || !(activation > 0)) {
            return 0;
        }
        return (int) Math.min(10, Math.floor(10 * activation / maxActivation));
    }

    public List<Integer> scale(List<Float> activations) {
        List<Integer> out = new ArrayList<>(activations.size());
        for (Float a : activations) {
            out.add(a == null ? 0 : scale(a));
        }
        return out;
    }
}
