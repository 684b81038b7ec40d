package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronKey;

/**
 * String keys of the scorer's stores. A neuron's key is a prefix of its simulations' and scores'
 * keys, so one prefix scan finds all of a neuron's; fields are NUL-separated because model
 * and checkpoint names are free text.
 */
public final class StoreKeys {
    private StoreKeys() {}

    public static String neuron(NeuronKey k) {
        return k.getModel() + '\0' + k.getCheckpoint() + '\0' + k.getLayer() + '\0' + k.getNeuron() + '\0';
    }

    /** A simulation: one per explanation and simulator method, as a score is. */
    public static String simulation(NeuronKey k, String explanationId, String simulatorMethod) {
        return neuron(k) + explanationId + '\0' + simulatorMethod;
    }

    /**
     * As above; an explanation carried from another checkpoint is another simulation, one per run and
     * origin, and so is a detection or fuzzing judge's (by its kind), which must not replace the
     * explanation's simulation. A simulation's key is the same as before the other kinds existed.
     */
    public static String simulation(NeuronKey k, io.neuronexplainer.schemas.Simulation s) {
        String own = simulation(k, s.getExplanationId(), s.getSimulatorMethod());
        if (!Identities.SIMULATION_SCORER.equals(s.getScorerKind())) {
            own = own + '\0' + s.getScorerKind();
        }
        return s.getCarriedFrom() == null ? own : own + '\0' + s.getRunId() + '\0' + s.getCarriedFrom();
    }

    /** A score, by its identity (Identities.scoreId). */
    public static String score(NeuronKey k, String scoreId) {
        return neuron(k) + scoreId;
    }

    public static String layer(NeuronKey k) {
        return k.getModel() + '\0' + k.getCheckpoint() + '\0' + k.getLayer();
    }
}
