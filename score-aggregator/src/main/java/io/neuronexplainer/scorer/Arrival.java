package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.Simulation;

/**
 * One side of the join arriving: a neuron's true activations (still encoded: most arrive before
 * any simulation and need no decoding yet), or one explanation's simulation (with its bytes, which
 * its store keeps).
 */
public record Arrival(byte[] activations, Decoded<Simulation> simulation) {
    public static Arrival ofActivations(byte[] encoded) {
        return new Arrival(encoded, null);
    }

    public static Arrival of(Decoded<Simulation> simulation) {
        return new Arrival(null, simulation);
    }
}
