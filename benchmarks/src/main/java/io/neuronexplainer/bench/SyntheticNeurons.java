package io.neuronexplainer.bench;

import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronStats;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.WindowKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * NeuronActivations records shaped like the demo's (5 explanation, 5 scoring top and 5 random
 * windows of 64 tokens), with made-up tokens and activations, for the workers' benchmarks. (With
 * a simulation of each, for the scorer's: {@link io.neuronexplainer.bench.scorer.SyntheticScoringInput}.)
 */
public final class SyntheticNeurons {
    public static final int WINDOW_TOKENS = 64;
    private static final int WINDOWS = 5;

    private SyntheticNeurons() {}

    public static NeuronActivations of(int index) {
        SplittableRandom random = new SplittableRandom(index);
        NeuronKey key = new NeuronKey("bench-gpt2", "synthetic", index / 3072, index % 3072);
        List<ActivationWindow> explanation = windows(random, 0, WindowKind.TOP);
        List<ActivationWindow> top = windows(random, WINDOWS, WindowKind.TOP);
        List<ActivationWindow> randomWindows = windows(random, 1000, WindowKind.RANDOM);
        float max = 0;
        for (ActivationWindow w : explanation) {
            max = Math.max(max, w.getMaxActivation());
        }
        return new NeuronActivations(key, explanation, top, randomWindows,
                new NeuronStats(max, 0.05, 10_000L, 640_000L),
                new ProducerRun("bench", "synthetic", WINDOW_TOKENS, 2 * WINDOWS, WINDOWS, 0L, Instant.EPOCH, "", -1L), List.of());
    }

    private static List<ActivationWindow> windows(SplittableRandom random, long firstIndex, WindowKind kind) {
        List<ActivationWindow> windows = new ArrayList<>(WINDOWS);
        for (int w = 0; w < WINDOWS; w++) {
            List<String> tokens = new ArrayList<>(WINDOW_TOKENS);
            List<Integer> ids = new ArrayList<>(WINDOW_TOKENS);
            List<Float> activations = new ArrayList<>(WINDOW_TOKENS);
            float max = 0;
            for (int t = 0; t < WINDOW_TOKENS; t++) {
                int id = random.nextInt(50_000);
                tokens.add(" tok" + id);
                ids.add(id);
                // Mostly zero, like a sparse MLP neuron, with a few strong activations.
                float a = random.nextInt(10) == 0 ? (float) random.nextDouble(0.5, 4.0) : 0f;
                activations.add(a);
                max = Math.max(max, a);
            }
            windows.add(new ActivationWindow(firstIndex + w, kind, tokens, ids, activations, max));
        }
        return windows;
    }
}
