package io.neuronexplainer.simulator;

import io.neuronexplainer.schemas.SimulationRequest;
import java.util.concurrent.CompletableFuture;

/**
 * Answers a detection or fuzzing request from its explanation alone: for every excerpt, yes or
 * no (does the neuron activate on it; are its marked tokens the activating ones), in the
 * request's order. Implementations retry what is worth retrying themselves; a failed future is
 * final (it becomes a dead letter).
 */
public interface Judge extends AutoCloseable {
    /** The method's name as recorded in Simulation.simulator_method; the same for both kinds. */
    String method();

    /** The model used, or "none". */
    String model();

    CompletableFuture<JudgeResult> judge(SimulationRequest request);

    @Override
    default void close() {}
}
