package io.neuronexplainer.launcher.demo;

import java.nio.file.Path;

/** Where the demo finds the repository's own model when none is given. */
final class DemoDefaults {
    private DemoDefaults() {}

    static Path model() {
        String root = System.getProperty("neuron.project.root");
        return (root != null ? Path.of(root) : Path.of("")).toAbsolutePath().resolve("models/demo-gpt2/final");
    }
}
