package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;

/**
 * What joining a simulation with its neuron's activations gave: a score, or a simulation refused
 * with the reason (it goes to the dead-letter topic, in the bytes it came in). Offset -1 when the
 * refused simulation was read earlier and is only now joined.
 */
public record JoinOutcome(NeuronScore score, Decoded<Simulation> refused, String reason, int partition, long offset) {
    public static JoinOutcome scored(NeuronScore score) {
        return new JoinOutcome(score, null, null, -1, -1);
    }

    public static JoinOutcome refused(Decoded<Simulation> simulation, String reason, int partition, long offset) {
        return new JoinOutcome(null, simulation, reason, partition, offset);
    }

    public boolean isScore() {
        return score != null;
    }
}
