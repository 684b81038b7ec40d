package io.neuronexplainer.producer;

import io.neuronexplainer.producer.model.ActivationModel;

/**
 * A deterministic stand-in language model for tests: a neuron's activation at a token is a hash
 * of (layer, neuron, token id, previous token id), quantized to steps of 0.25 in [-1, 4] so
 * that ties between windows are common. A pure function of the window's content, like a real
 * model's, so recomputing a window gives the same values.
 */
public class SyntheticModel implements ActivationModel {
    private final int layers;
    private final int neurons;
    private int calls;

    public SyntheticModel(int layers, int neurons) {
        this.layers = layers;
        this.neurons = neurons;
    }

    @Override
    public int layers() {
        return layers;
    }

    @Override
    public int neuronsPerLayer() {
        return neurons;
    }

    @Override
    public int contextLength() {
        return 128;
    }

    /** The activation this model gives neuron {@code n} of {@code layer} at a token. */
    public static float activation(int layer, int n, int id, int previousId) {
        long h = (layer * 1_000_003L + n) * 0x9E3779B97F4A7C15L + id * 0xC2B2AE3D27D4EB4FL + previousId * 31L;
        h ^= h >>> 29;
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 32;
        return (Math.floorMod(h, 21) - 4) * 0.25f;
    }

    @Override
    public float[][] mlpActivations(int[][] windows, int[] requested) {
        calls++;
        int tokens = windows[0].length;
        float[][] out = new float[requested.length][windows.length * tokens * neurons];
        for (int l = 0; l < requested.length; l++) {
            for (int w = 0; w < windows.length; w++) {
                for (int t = 0; t < tokens; t++) {
                    int prev = t == 0 ? -1 : windows[w][t - 1];
                    for (int n = 0; n < neurons; n++) {
                        out[l][(w * tokens + t) * neurons + n] = activation(requested[l], n, windows[w][t], prev);
                    }
                }
            }
        }
        return out;
    }

    public int calls() {
        return calls;
    }

    @Override
    public void close() {}
}
