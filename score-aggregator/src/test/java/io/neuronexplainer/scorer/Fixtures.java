package io.neuronexplainer.scorer;

import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.Judgement;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronStats;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.SimulatedWindow;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.WindowKind;
import io.neuronexplainer.schemas.WindowMax;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Records built for the scorer's tests: top windows are indexed from 0, random ones from 1000. */
public final class Fixtures {
    private Fixtures() {}

    static NeuronKey key(int layer, int neuron) {
        return SampleRecords.key(layer, neuron);
    }

    static List<Float> floats(Random rnd, int n, float scale, float offset) {
        List<Float> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(offset + scale * rnd.nextFloat());
        }
        return out;
    }

    /**
     * {@code n} windows of 64 tokens of a neuron that fires (2 to 5) on about one token in 20 and
     * stays near 0 (-0.1 to 0.2) elsewhere: many neurons' worth of realistic input for end-to-end runs.
     */
    static List<List<Float>> firingWindows(Random rnd, int n) {
        List<List<Float>> out = new ArrayList<>(n);
        for (int w = 0; w < n; w++) {
            List<Float> acts = new ArrayList<>(64);
            for (int t = 0; t < 64; t++) {
                acts.add(rnd.nextInt(20) == 0 ? 2 + rnd.nextFloat() * 3 : rnd.nextFloat() * 0.3f - 0.1f);
            }
            out.add(acts);
        }
        return out;
    }

    /** A simulation of {@code truth} that is right on most tokens: 8 to 10 where the neuron fires, 5 on a tenth of the rest, else 0. */
    static List<List<Float>> mostlyRight(Random rnd, List<List<Float>> truth) {
        List<List<Float>> out = new ArrayList<>(truth.size());
        for (List<Float> window : truth) {
            List<Float> predicted = new ArrayList<>(window.size());
            for (Float a : window) {
                predicted.add(a > 1 ? 8 + rnd.nextFloat() * 2 : rnd.nextFloat() < 0.1 ? 5f : 0f);
            }
            out.add(predicted);
        }
        return out;
    }

    static ActivationWindow window(long index, WindowKind kind, List<Float> activations) {
        List<String> tokens = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < activations.size(); i++) {
            tokens.add(" tok" + (index * 7 + i) % 50);
            ids.add((int) (index * 7 + i) % 50);
        }
        float max = activations.isEmpty() ? 0 : Collections.max(activations);
        return new ActivationWindow(index, kind, tokens, ids, activations, max);
    }

    public static NeuronActivations activations(NeuronKey key, List<List<Float>> top, List<List<Float>> random) {
        List<ActivationWindow> explain = List.of(window(500, WindowKind.TOP, List.of(0f, 3f, 1f)));
        List<ActivationWindow> t = new ArrayList<>();
        for (int i = 0; i < top.size(); i++) {
            t.add(window(i, WindowKind.TOP, top.get(i)));
        }
        List<ActivationWindow> r = new ArrayList<>();
        for (int i = 0; i < random.size(); i++) {
            r.add(window(1000 + i, WindowKind.RANDOM, random.get(i)));
        }
        return new NeuronActivations(key, explain, t, r, new NeuronStats(3f, 0.1, 100L, 6400L),
                new ProducerRun("run-1", "test", 64, 20, 10, 1L, SampleRecords.AT, "", -1L), randomMaxima(random));
    }

    /** The random sample's maxima: the scored random windows (1000...) and two more the neuron was not scored on. */
    static List<WindowMax> randomMaxima(List<List<Float>> random) {
        List<WindowMax> out = new ArrayList<>();
        for (int i = 0; i < random.size(); i++) {
            out.add(new WindowMax(1000L + i, random.get(i).isEmpty() ? 0f : Collections.max(random.get(i))));
        }
        out.add(new WindowMax(2000L, 0.5f));
        out.add(new WindowMax(2001L, 1.25f));
        return out;
    }

    public static Simulation simulation(NeuronKey key, String explanationId, List<List<Float>> top, List<List<Float>> random) {
        List<SimulatedWindow> windows = new ArrayList<>();
        for (int i = 0; i < random.size(); i++) {
            windows.add(new SimulatedWindow(1000L + i, WindowKind.RANDOM, random.get(i)));
        }
        for (int i = 0; i < top.size(); i++) {
            windows.add(new SimulatedWindow((long) i, WindowKind.TOP, top.get(i)));
        }
        return new Simulation(key, explanationId, "explanation " + explanationId + " of " + key.getLayer() + "/" + key.getNeuron(),
                "all-at-once", "test-model", windows, 0, 0, SampleRecords.AT, "run-1", null, 0, "test-explainer/v1", io.neuronexplainer.schemas.Identities.SIMULATION_SCORER, List.of());
    }

    /** A detection or fuzzing judge's answers to the explanation (prompt tokens 250), as the simulator pool sends them. */
    public static Simulation judged(NeuronKey key, String explanationId, String kind, List<Judgement> judgements) {
        return new Simulation(key, explanationId, "explanation " + explanationId + " of " + key.getLayer() + "/" + key.getNeuron(),
                "judge-" + kind, "test-model", List.of(), 250, 10, SampleRecords.AT, "run-1", null, 40, "test-explainer/v1",
                kind, judgements);
    }

    public static Judgement judgement(long window, List<Integer> marked, boolean saysYes, Double yesProbability) {
        return new Judgement(window, marked, saysYes, yesProbability);
    }
}
