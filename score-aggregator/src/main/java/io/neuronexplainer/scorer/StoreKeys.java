package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.NeuronKey;

/**
 * String keys of the scorer's stores. A neuron's key is a prefix of its explanations' keys, so
 * one prefix scan finds every explanation of a neuron; fields are NUL-separated because model
 * and checkpoint names are free text.
 */
public final class StoreKeys {
    private StoreKeys() {}

    public static String neuron(NeuronKey k) {
        return k.getModel() + '\0' + k.getCheckpoint() + '\0' + k.getLayer() + '\0' + k.getNeuron() + '\0';
    }

    public static String explanation(NeuronKey k, String explanationId) {
        return neuron(k) + explanationId;
    }

    public static String layer(NeuronKey k) {
        return k.getModel() + '\0' + k.getCheckpoint() + '\0' + k.getLayer();
    }
}
