package io.neuronexplainer.scorer.drift;

import io.neuronexplainer.schemas.DriftKey;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.SimulationRequest;

/**
 * What the drift tracker emits: a pair's drift (null value = the pair is no longer consecutive),
 * or a request to simulate an earlier checkpoint's explanation on a later one's windows.
 */
public record DriftOutput(DriftKey driftKey, NeuronDrift drift, NeuronKey requestKey, SimulationRequest request) {
    static DriftOutput drift(DriftKey key, NeuronDrift drift) {
        return new DriftOutput(key, drift, null, null);
    }

    static DriftOutput carry(SimulationRequest request) {
        return new DriftOutput(null, null, request.getNeuron(), request);
    }

    public boolean isDrift() {
        return driftKey != null;
    }
}
