package io.neuronexplainer.producer.model;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Where the tests find the repository's demo model and HuggingFace's reference activations. */
final class DemoModel {
    private DemoModel() {}

    static Path root() {
        return Path.of(System.getProperty("neuron.project.root", "..")).toAbsolutePath().normalize();
    }

    static Path finalCheckpoint() {
        return root().resolve("models/demo-gpt2/final");
    }

    static Path tokenizerFile() {
        return root().resolve("models/demo-gpt2/tokenizer.json");
    }

    static Path referenceActivations() {
        try {
            return Path.of(DemoModel.class.getResource("/reference_activations.safetensors").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
