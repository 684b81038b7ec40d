package io.neuronexplainer.watcher;

/** A checkpoint this project cannot run (unsupported model type, corrupt weights, no tokenizer); the message says why in one line. */
public class CheckpointRejectedException extends Exception {
    public CheckpointRejectedException(String message) {
        super(message);
    }

    public CheckpointRejectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
