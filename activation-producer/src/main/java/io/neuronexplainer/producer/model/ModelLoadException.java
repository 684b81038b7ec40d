package io.neuronexplainer.producer.model;

import java.nio.file.Path;

/**
 * A model, checkpoint or tokenizer file that cannot be used, with a one-line message naming the
 * file and the problem. An IllegalArgumentException so that commands report it as bad input.
 */
public class ModelLoadException extends IllegalArgumentException {
    public ModelLoadException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public ModelLoadException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
