package io.neuronexplainer.producer;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import io.neuronexplainer.producer.model.ActivationModel;
import io.neuronexplainer.producer.sampling.LayerTopK;
import io.neuronexplainer.schemas.WindowMax;
import io.neuronexplainer.schemas.WindowMaxima;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Every neuron's max activation on every window of the shared random sample, for all the pass's
 * layers: what {@code random_window_maxima} holds, so checkpoints of a series compare window by
 * window. The pass keeps the maxima of each window as it enters the sample (the sample changes until
 * the corpus is read), and the per-token values of the sample's first windows, those scoring draws
 * its random windows from ({@link SampleWindowValues}). The emission runs the model over the windows
 * it lacks either of: a restored pass's state and other shards' carry none.
 */
final class RandomWindowMaxima {
    private final long[] windowIndexes;
    private final int neurons;
    // Per layer (in the pass's order), [neuron * windows + window].
    private final float[][] maxima;
    // Per layer, per window of the sample's first, [token * neurons + neuron].
    private final float[][][] firstWindows;
    private final int windowsRun;

    private RandomWindowMaxima(long[] windowIndexes, int neurons, float[][] maxima, float[][][] firstWindows,
                               int windowsRun) {
        this.windowsRun = windowsRun;
        this.windowIndexes = windowIndexes;
        this.neurons = neurons;
        this.maxima = maxima;
        this.firstWindows = firstWindows;
    }

    /**
     * Runs {@code sample} through {@code model}, {@code batchSize} windows at a time, for {@code layers},
     * keeping the per-token activations of its first {@code keepWindows} windows of {@code windowTokens}.
     * A window whose maxima {@code knownMaxima} holds (taken by the pass when the window entered the
     * sample, {@link #windowMaxima}) is run only if it is among those first windows and
     * {@code knownValues} (null: none) lacks its per-token values; a window run here takes its maxima
     * from this run.
     */
    static RandomWindowMaxima compute(ActivationModel model, int[] layers, List<CorpusWindow> sample, int batchSize,
                                      int keepWindows, int windowTokens, Map<Long, float[]> knownMaxima,
                                      SampleWindowValues knownValues) {
        int neurons = model.neuronsPerLayer();
        int keep = Math.min(keepWindows, sample.size());
        long[] indexes = new long[sample.size()];
        // Filled a window at a time, [window * neurons + neuron]; laid out by neuron at the end (byNeuron).
        float[][] maxima = new float[layers.length][sample.size() * neurons];
        float[][][] firstWindows = new float[layers.length][keep][];
        List<Integer> toRun = new ArrayList<>();
        for (int i = 0; i < sample.size(); i++) {
            indexes[i] = sample.get(i).index();
            float[] passMaxima = knownMaxima.get(indexes[i]);
            if (passMaxima != null) {
                for (int l = 0; l < layers.length; l++) {
                    System.arraycopy(passMaxima, l * neurons, maxima[l], i * neurons, neurons);
                }
            }
            float[][] passValues = i < keep && knownValues != null ? knownValues.of(indexes[i]) : null;
            if (passValues != null) {
                for (int l = 0; l < layers.length; l++) {
                    firstWindows[l][i] = passValues[l];
                    if (passMaxima == null) {
                        maxOverTokens(passValues[l], 0, windowTokens, neurons, maxima[l], i * neurons);
                    }
                }
            } else if (i < keep || passMaxima == null) {
                toRun.add(i);
            }
        }
        float[][] activations = new float[layers.length][];
        for (int from = 0; from < toRun.size(); from += batchSize) {
            int to = Math.min(toRun.size(), from + batchSize);
            int[][] ids = new int[to - from][];
            for (int i = from; i < to; i++) {
                ids[i - from] = sample.get(toRun.get(i)).ids();
            }
            activations = model.mlpActivations(ids, layers, activations);
            for (int w = 0; w < ids.length; w++) {
                int position = toRun.get(from + w);
                int tokens = ids[w].length;
                for (int l = 0; l < layers.length; l++) {
                    float[] a = activations[l];
                    if (position < keep) {
                        firstWindows[l][position] = Arrays.copyOfRange(a, w * tokens * neurons, (w + 1) * tokens * neurons);
                    }
                    // A window run here takes its maxima from this run, so a random window's max and its
                    // entry in the maxima come from the same numbers.
                    maxOverTokens(a, w, tokens, neurons, maxima[l], position * neurons);
                }
            }
        }
        return new RandomWindowMaxima(indexes, neurons, byNeuron(maxima, sample.size(), neurons), firstWindows, toRun.size());
    }

    /**
     * Each layer's maxima from [window * neurons + neuron] to [neuron * windows + window]: a record
     * reads one neuron's maxima over every sampled window, which then lie side by side instead of a
     * layer's width apart (a cache miss each, the top of the record builders' profile).
     */
    private static float[][] byNeuron(float[][] maxima, int windows, int neurons) {
        float[][] out = new float[maxima.length][];
        for (int l = 0; l < maxima.length; l++) {
            float[] in = maxima[l];
            float[] t = new float[in.length];
            for (int w = 0; w < windows; w++) {
                for (int n = 0; n < neurons; n++) {
                    t[n * windows + w] = in[w * neurons + n];
                }
            }
            out[l] = t;
        }
        return out;
    }

    /** Windows of the sample this run through the model: those the pass kept too little of. */
    int windowsRun() {
        return windowsRun;
    }

    /**
     * The per-token activations of the sample's first windows (as many as asked for) on the pass's
     * {@code layerPosition}-th layer, per window [token * neurons + neuron]: read, not copied.
     */
    float[][] firstWindows(int layerPosition) {
        return firstWindows[layerPosition];
    }

    /**
     * Each neuron's max over window {@code w} of the batch just offered to {@code tops} (one per layer,
     * in the pass's order), as [layer * neurons + neuron]: the maxima the top-Ks computed.
     */
    static float[] windowMaxima(List<LayerTopK> tops, int w) {
        int neurons = tops.get(0).neurons();
        float[] out = new float[tops.size() * neurons];
        for (int l = 0; l < tops.size(); l++) {
            System.arraycopy(tops.get(l).lastBatchMaxima(), w * neurons, out, l * neurons, neurons);
        }
        return out;
    }

    private static void maxOverTokens(float[] a, int w, int tokens, int neurons, float[] out, int at) {
        Arrays.fill(out, at, at + neurons, Float.NEGATIVE_INFINITY);
        for (int t = 0; t < tokens; t++) {
            int in = (w * tokens + t) * neurons;
            for (int n = 0; n < neurons; n++) {
                out[at + n] = Math.max(out[at + n], a[in + n]);
            }
        }
    }

    /**
     * Neuron {@code neuron} of the pass's {@code layerPosition}-th layer: one entry per sampled window, in
     * sample order; a view of the maxima, not a copy.
     */
    List<WindowMax> of(int layerPosition, int neuron) {
        return new WindowMaxima(windowIndexes, maxima[layerPosition], neuron * windowIndexes.length);
    }
}
