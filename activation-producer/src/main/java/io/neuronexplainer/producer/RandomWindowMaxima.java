package io.neuronexplainer.producer;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import io.neuronexplainer.producer.model.ActivationModel;
import io.neuronexplainer.schemas.WindowMax;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every neuron's max activation on every window of the shared random sample, for all the pass's
 * layers: what {@code random_window_maxima} holds, so checkpoints of a series compare window by
 * window. Recomputed at the end of the pass in one batched run over the sample (the sample changes
 * until the corpus is read), keeping maxima (layers x windows x neurons floats) and, for the sample's
 * first windows only (those scoring draws its random windows from), the per-token values: no more
 * than one batch of all layers holds when the scoring sample fits in a batch, and no second run of
 * the model over those windows for each layer.
 */
final class RandomWindowMaxima {
    private final long[] windowIndexes;
    private final int neurons;
    // Per layer (in the pass's order), [window * neurons + neuron].
    private final float[][] maxima;
    // Per layer, [(window * tokens + token) * neurons + neuron] for the sample's first windows.
    private final float[][] firstWindows;

    private RandomWindowMaxima(long[] windowIndexes, int neurons, float[][] maxima, float[][] firstWindows) {
        this.windowIndexes = windowIndexes;
        this.neurons = neurons;
        this.maxima = maxima;
        this.firstWindows = firstWindows;
    }

    /**
     * Runs {@code sample} through {@code model}, {@code batchSize} windows at a time, for {@code layers},
     * keeping the per-token activations of its first {@code keepWindows} windows of {@code windowTokens}.
     */
    static RandomWindowMaxima compute(ActivationModel model, int[] layers, List<CorpusWindow> sample, int batchSize,
                                      int keepWindows, int windowTokens) {
        int neurons = model.neuronsPerLayer();
        int keep = Math.min(keepWindows, sample.size());
        long[] indexes = new long[sample.size()];
        float[][] maxima = new float[layers.length][sample.size() * neurons];
        float[][] firstWindows = new float[layers.length][keep * windowTokens * neurons];
        for (float[] layer : maxima) {
            Arrays.fill(layer, Float.NEGATIVE_INFINITY);
        }
        float[][] activations = new float[layers.length][];
        for (int from = 0; from < sample.size(); from += batchSize) {
            int to = Math.min(sample.size(), from + batchSize);
            int[][] ids = new int[to - from][];
            for (int i = from; i < to; i++) {
                ids[i - from] = sample.get(i).ids();
                indexes[i] = sample.get(i).index();
            }
            activations = model.mlpActivations(ids, layers, activations);
            for (int l = 0; l < layers.length; l++) {
                float[] a = activations[l];
                if (from < keep) {
                    int kept = (Math.min(to, keep) - from) * windowTokens * neurons;
                    System.arraycopy(a, 0, firstWindows[l], from * windowTokens * neurons, kept);
                }
                float[] m = maxima[l];
                for (int w = 0; w < ids.length; w++) {
                    int tokens = ids[w].length;
                    int out = (from + w) * neurons;
                    for (int t = 0; t < tokens; t++) {
                        int in = (w * tokens + t) * neurons;
                        for (int n = 0; n < neurons; n++) {
                            m[out + n] = Math.max(m[out + n], a[in + n]);
                        }
                    }
                }
            }
        }
        return new RandomWindowMaxima(indexes, neurons, maxima, firstWindows);
    }

    /**
     * The per-token activations of the sample's first windows (as many as asked for) on the pass's
     * {@code layerPosition}-th layer, [(window * tokens + token) * neurons + neuron]: read, not copied.
     */
    float[] firstWindows(int layerPosition) {
        return firstWindows[layerPosition];
    }

    /** Neuron {@code neuron} of the pass's {@code layerPosition}-th layer: one entry per sampled window, in sample order. */
    List<WindowMax> of(int layerPosition, int neuron) {
        float[] m = maxima[layerPosition];
        List<WindowMax> out = new ArrayList<>(windowIndexes.length);
        for (int w = 0; w < windowIndexes.length; w++) {
            out.add(new WindowMax(windowIndexes[w], m[w * neurons + neuron]));
        }
        return out;
    }
}
