package io.neuronexplainer.scorer.drift;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.DriftKey;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.SimulationRequest;

/**
 * What the drift tracker emits: a pair's drift (null = the pair is no longer consecutive), a
 * request to simulate an earlier checkpoint's explanation on a later one's windows, and, when
 * explanations are reused, a neuron's activations to explain or its reused best score.
 */
public record DriftOutput(Kind kind, DriftKey driftKey, NeuronDrift drift, NeuronKey neuron, SimulationRequest request,
                          ActivationsKey explainKey, byte[] explainActivations, NeuronScore reusedBest) {
    public enum Kind { DRIFT, CARRY, EXPLAIN, REUSE }

    static DriftOutput drift(DriftKey key, NeuronDrift drift) {
        return new DriftOutput(Kind.DRIFT, key, drift, null, null, null, null, null);
    }

    static DriftOutput carry(SimulationRequest request) {
        return new DriftOutput(Kind.CARRY, null, null, request.getNeuron(), request, null, null, null);
    }

    static DriftOutput explain(ActivationsKey key, byte[] activations) {
        return new DriftOutput(Kind.EXPLAIN, null, null, key.getNeuron(), null, key, activations, null);
    }

    static DriftOutput reuse(NeuronScore best) {
        return new DriftOutput(Kind.REUSE, null, null, best.getNeuron(), null, null, null, best);
    }

    public boolean isDrift() {
        return kind == Kind.DRIFT;
    }
}
