package io.neuronexplainer.producer.model;

import java.nio.file.Path;

/** The model used when none is given: the demo GPT-2 shipped in the repository's {@code models/}. */
public final class DefaultModel {
    private DefaultModel() {}

    /** {@code models/demo-gpt2/final} under the project root ({@code -Dneuron.project.root}, else the working directory). */
    public static Path folder() {
        String root = System.getProperty("neuron.project.root");
        Path base = root == null || root.isBlank() ? Path.of("") : Path.of(root);
        return base.resolve("models").resolve("demo-gpt2").resolve("final").toAbsolutePath().normalize();
    }
}
