package io.neuronexplainer.producer.model;

/** A language model whose MLP neurons' activations can be read, a batch of windows at a time. */
public interface ActivationModel extends AutoCloseable {
    int layers();

    /** Neurons per layer (the MLP's hidden width). */
    int neuronsPerLayer();

    /** The longest window the model takes. */
    int contextLength();

    /**
     * Runs equal-length windows of token ids through the model and returns the post-activation
     * (GELU) MLP values of the requested layers: {@code result[i]} holds layer {@code layers[i]}
     * laid out [window][token][neuron], i.e. index {@code (w * tokens + t) * neuronsPerLayer() + n}.
     */
    float[][] mlpActivations(int[][] windows, int[] layers);

    /**
     * As {@link #mlpActivations(int[][], int[])}, writing into {@code into[i]} where it has the
     * right length, so that batch after batch reuses the same (large) arrays.
     */
    default float[][] mlpActivations(int[][] windows, int[] layers, float[][] into) {
        return mlpActivations(windows, layers);
    }

    @Override
    void close();
}
