package io.neuronexplainer.scorer;

/** A simulation that cannot be scored against the neuron's true windows; the message says why. */
public class InvalidSimulationException extends RuntimeException {
    public InvalidSimulationException(String message) {
        super(message);
    }
}
