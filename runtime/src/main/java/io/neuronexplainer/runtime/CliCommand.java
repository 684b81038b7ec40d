package io.neuronexplainer.runtime;

/**
 * Marks a picocli command that a module contributes to {@code neuron-explain}. Modules list
 * their commands in {@code META-INF/services/io.neuronexplainer.runtime.CliCommand}; the
 * launcher finds them with ServiceLoader, so adding a command touches only its own module.
 */
public interface CliCommand {
    /** The parent command's name (e.g. {@code bench}), or null for a top-level command. */
    default String parent() {
        return null;
    }
}
