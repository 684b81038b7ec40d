package io.neuronexplainer.simulator;

import io.neuronexplainer.schemas.SimulationRequest;
import java.util.concurrent.CompletableFuture;

/**
 * Predicts every token's activation (0-10) from an explanation alone. Implementations retry
 * what is worth retrying themselves; a failed future is final (it becomes a dead letter).
 */
public interface Simulator extends AutoCloseable {
    /** The method's name as recorded in Simulation.simulator_method. */
    String method();

    /** The model used, or "none". */
    String model();

    CompletableFuture<SimulatorResult> simulate(SimulationRequest request);

    @Override
    default void close() {}
}
