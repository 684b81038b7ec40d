package io.neuronexplainer.scorer.drift;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.DriftKey;
import io.neuronexplainer.schemas.DriftRequest;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.SimulationRequest;

/**
 * What the drift tracker emits: a pair's drift (null = the pair is no longer consecutive), a
 * request to simulate an earlier checkpoint's explanation on a later one's windows, and, when
 * explanations are reused, a request to explain a neuron's run or its reused best score. The two
 * requests name a run; its windows are attached by {@link DriftRequests}.
 */
public record DriftOutput(Kind kind, DriftKey driftKey, NeuronDrift drift, NeuronKey neuron, SimulationRequest request,
                          ActivationsKey explainKey, NeuronScore reusedBest) {
    public enum Kind { DRIFT, CARRY, EXPLAIN, REUSE }

    static DriftOutput drift(DriftKey key, NeuronDrift drift) {
        return new DriftOutput(Kind.DRIFT, key, drift, null, null, null, null);
    }

    static DriftOutput carry(SimulationRequest request) {
        return new DriftOutput(Kind.CARRY, null, null, request.getNeuron(), request, null, null);
    }

    static DriftOutput explain(ActivationsKey key) {
        return new DriftOutput(Kind.EXPLAIN, null, null, key.getNeuron(), null, key, null);
    }

    static DriftOutput reuse(NeuronScore best) {
        return new DriftOutput(Kind.REUSE, null, null, best.getNeuron(), null, null, best);
    }

    public boolean isDrift() {
        return kind == Kind.DRIFT;
    }

    /** A carried simulation or an explanation asked for, which needs its run's windows attached. */
    public boolean isRequest() {
        return kind == Kind.CARRY || kind == Kind.EXPLAIN;
    }

    /** This request as it travels to the task holding its run's activations. */
    public DriftRequest driftRequest() {
        return kind == Kind.CARRY ? new DriftRequest(request.getRunId(), request) : new DriftRequest(explainKey.getRunId(), null);
    }
}
