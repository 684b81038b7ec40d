package io.neuronexplainer.producer;

import java.nio.file.Path;

/** A model's and checkpoint's names, as the run's records carry them. */
public record CheckpointName(String model, String checkpoint) {

    /**
     * The names a checkpoint folder laid out {@code <model>/<checkpoint>} implies:
     * {@code models/demo-gpt2/final} gives model demo-gpt2, checkpoint final.
     */
    public static CheckpointName fromFolder(Path modelFolder) {
        Path folder = modelFolder.toAbsolutePath().normalize();
        String checkpoint = folder.getFileName() == null ? "model" : folder.getFileName().toString();
        Path parent = folder.getParent();
        String model = parent == null || parent.getFileName() == null ? checkpoint : parent.getFileName().toString();
        return new CheckpointName(model, checkpoint);
    }
}
