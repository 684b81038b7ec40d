package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.SimulatedWindow;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.WindowKind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.PrimitivesArrays;

/**
 * The scoring windows' true activations paired token by token with a simulation's predictions,
 * joined by (kind, window_index). A simulation must cover every scoring window exactly, with
 * one prediction per token; anything else is refused with the reason.
 */
public record WindowPairing(List<Pair> top, List<Pair> random) {

    /** One window's true and predicted activations, same length. */
    public record Pair(WindowKind kind, long windowIndex, List<Float> actual, List<Float> predicted) {}

    public static WindowPairing of(NeuronActivations activations, Simulation simulation) {
        Map<String, SimulatedWindow> predicted = new HashMap<>();
        for (SimulatedWindow w : simulation.getWindows()) {
            if (predicted.put(id(w.getKind(), w.getWindowIndex()), w) != null) {
                throw new InvalidSimulationException("simulation has window " + id(w.getKind(), w.getWindowIndex()) + " twice");
            }
        }
        List<Pair> top = pair(activations.getScoringTopWindows(), WindowKind.TOP, predicted);
        List<Pair> random = pair(activations.getScoringRandomWindows(), WindowKind.RANDOM, predicted);
        if (!predicted.isEmpty()) {
            throw new InvalidSimulationException("simulation has window(s) " + predicted.keySet()
                    + " that are not scoring windows of the neuron");
        }
        return new WindowPairing(top, random);
    }

    private static List<Pair> pair(List<ActivationWindow> windows, WindowKind kind, Map<String, SimulatedWindow> predicted) {
        List<Pair> pairs = new ArrayList<>(windows.size());
        for (ActivationWindow w : windows) {
            String id = id(kind, w.getWindowIndex());
            SimulatedWindow s = predicted.remove(id);
            if (s == null) {
                throw new InvalidSimulationException("simulation lacks scoring window " + id);
            }
            if (s.getPredicted().size() != w.getActivations().size()) {
                throw new InvalidSimulationException("window " + id + " has " + w.getActivations().size()
                        + " tokens but " + s.getPredicted().size() + " predictions");
            }
            pairs.add(new Pair(kind, w.getWindowIndex(), w.getActivations(), s.getPredicted()));
        }
        return pairs;
    }

    private static String id(WindowKind kind, long index) {
        return kind + "#" + index;
    }

    /** True activations of the given pairs, concatenated in order. */
    public static double[] actual(List<Pair> pairs) {
        return concat(pairs, true);
    }

    /** Predicted activations of the given pairs, concatenated in order. */
    public static double[] predicted(List<Pair> pairs) {
        return concat(pairs, false);
    }

    private static double[] concat(List<Pair> pairs, boolean actual) {
        int n = 0;
        for (Pair p : pairs) {
            n += p.actual().size();
        }
        double[] out = new double[n];
        int i = 0;
        for (Pair p : pairs) {
            List<Float> values = actual ? p.actual() : p.predicted();
            if (values instanceof PrimitivesArrays.FloatArray floats) { // as Avro reads them: no boxing
                for (int j = 0; j < floats.size(); j++) {
                    out[i++] = floats.getFloat(j);
                }
            } else {
                for (Float f : values) {
                    out[i++] = f;
                }
            }
        }
        return out;
    }

    public List<Pair> all() {
        List<Pair> all = new ArrayList<>(top);
        all.addAll(random);
        return all;
    }
}
