package io.neuronexplainer.scorer;

import java.time.Duration;

/** A simulation whose neuron's activations of its run did not arrive within the orphan timeout; the message says which. */
public class OrphanedSimulationException extends RuntimeException {
    public OrphanedSimulationException(String runId, Duration timeout, String heldRunId) {
        super("no activations of run " + (runId.isEmpty() ? "(any)" : runId) + " arrived within " + DurationText.format(timeout)
                + (heldRunId == null ? "" : " (the scorer holds the neuron's activations of run " + heldRunId + ")"));
    }
}
