package io.neuronexplainer.watcher.hub;

import java.nio.file.Path;

/** The repository's trained demo GPT-2 ({@code models/demo-gpt2}): real checkpoints to publish on the local Hub. */
final class DemoGpt2 {
    private DemoGpt2() {}

    static Path root() {
        return Path.of(System.getProperty("neuron.project.root", "..")).toAbsolutePath().normalize().resolve("models/demo-gpt2");
    }

    /** {@code step-000300}, {@code step-001500} or {@code final}: config.json, model.safetensors, training_state.json. */
    static Path checkpoint(String name) {
        return root().resolve(name);
    }

    static Path tokenizer() {
        return root().resolve("tokenizer.json");
    }
}
