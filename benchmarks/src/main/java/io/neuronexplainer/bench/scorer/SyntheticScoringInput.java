package io.neuronexplainer.bench.scorer;

import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronStats;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.SharedAvroArray;
import io.neuronexplainer.schemas.SimulatedWindow;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.WindowKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The scorer's input, made up: neurons of the demo's shape (5 explanation, 5 top and 5 random
 * windows of 64 tokens) that each fire on one vocabulary token, and a simulation of each that is
 * partly right, for {@code bench scorer}. (Activations alone, for the workers: {@code SyntheticNeurons}.)
 */
public final class SyntheticScoringInput {
    public static final int WINDOW_TOKENS = 64;
    private static final List<String> VOCAB = List.of(" the", " of", " and", " cat", " sat", " on", " mat", ",", ".",
            " Parliament", " vote", " Commission", " report", " we", " must", " that", "\n", " is", " a", " to");

    private final Random random;
    private final String model;

    public SyntheticScoringInput(String model, long seed) {
        this.model = model;
        this.random = new Random(seed);
    }

    public NeuronKey key(int i) {
        return new NeuronKey(model, "final", i / 3072, i % 3072);
    }

    private ActivationWindow window(long index, WindowKind kind, int token) {
        List<String> tokens = new ArrayList<>(WINDOW_TOKENS);
        List<Integer> ids = new ArrayList<>(WINDOW_TOKENS);
        List<Float> acts = new ArrayList<>(WINDOW_TOKENS);
        float max = 0;
        for (int t = 0; t < WINDOW_TOKENS; t++) {
            int id = random.nextInt(VOCAB.size());
            tokens.add(VOCAB.get(id));
            ids.add(id);
            float a = id == token ? 2 + random.nextFloat() * 3 : random.nextFloat() * 0.3f - 0.1f;
            acts.add(a);
            max = Math.max(max, a);
        }
        // Texts and ids as the activation producer sends them: shared arrays, encoded once with their size.
        return new ActivationWindow(index, kind, new SharedAvroArray<>(tokens), new SharedAvroArray<>(ids), acts, max);
    }

    /** Neuron i: fires on one vocabulary token. */
    public NeuronActivations activations(int i) {
        int token = i % VOCAB.size();
        List<ActivationWindow> explain = new ArrayList<>(), top = new ArrayList<>(), rnd = new ArrayList<>();
        for (int w = 0; w < 5; w++) {
            explain.add(window(w, WindowKind.TOP, token));
            top.add(window(5 + w, WindowKind.TOP, token));
            rnd.add(window(1000 + w, WindowKind.RANDOM, token));
        }
        return new NeuronActivations(key(i), explain, top, rnd, new NeuronStats(5f, 0.1, 1000L, 64_000L),
                new ProducerRun("bench", "synthetic", WINDOW_TOKENS, 10, 5, 1L, Instant.now(), "", -1L), List.of());
    }

    /** A simulation predicting 10 wherever the neuron's token is, right on most tokens. */
    public Simulation simulation(NeuronActivations truth, String explanationId) {
        List<SimulatedWindow> windows = new ArrayList<>();
        for (List<ActivationWindow> list : List.of(truth.getScoringTopWindows(), truth.getScoringRandomWindows())) {
            for (ActivationWindow w : list) {
                List<Float> predicted = new ArrayList<>(w.getActivations().size());
                for (Float a : w.getActivations()) {
                    predicted.add(a > 1 ? 8 + random.nextFloat() * 2 : random.nextFloat() < 0.1 ? 5f : 0f);
                }
                windows.add(new SimulatedWindow(w.getWindowIndex(), w.getKind(), predicted));
            }
        }
        return new Simulation(truth.getNeuron(), explanationId, " a synthetic token", "all-at-once", "synthetic",
                windows, 0, 0, Instant.now(), truth.getRun().getRunId(), null, 0, "synthetic", io.neuronexplainer.schemas.Identities.SIMULATION_SCORER, List.of());
    }
}
