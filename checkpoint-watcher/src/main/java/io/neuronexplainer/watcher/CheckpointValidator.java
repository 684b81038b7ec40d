package io.neuronexplainer.watcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronexplainer.producer.model.Gpt2Checkpoint;
import io.neuronexplainer.producer.model.Gpt2Config;
import io.neuronexplainer.producer.model.Gpt2Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Checks, before a checkpoint is released, that the producer can run it: a GPT-2 config, weights
 * whose header names and shapes match that config (no weight is read), and a tokenizer that loads.
 */
public final class CheckpointValidator {
    /** The {@code model_type} values whose architecture the producer's forward pass implements. */
    public static final Set<String> SUPPORTED_MODEL_TYPES = Set.of("gpt2");

    private CheckpointValidator() {}

    /** Rejects a config.json text whose model type or settings the producer cannot run; cheap, before any weight. */
    public static void checkConfig(Path configFile) throws CheckpointRejectedException {
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(Files.readString(configFile));
        } catch (IOException e) {
            throw new CheckpointRejectedException("config.json is not readable JSON: " + firstLine(e.getMessage()));
        }
        String type = json == null ? "" : json.path("model_type").asText("");
        if (!type.isEmpty() && !SUPPORTED_MODEL_TYPES.contains(type)) {
            throw new CheckpointRejectedException("model_type " + type + " is not supported (only "
                    + String.join(", ", SUPPORTED_MODEL_TYPES) + " checkpoints can be run)");
        }
        try {
            Gpt2Config.read(configFile);
        } catch (IllegalArgumentException e) {
            throw new CheckpointRejectedException(firstLine(e.getMessage()), e);
        }
    }

    /** Checks the config, the weights' header against it, and the tokenizer. */
    public static void check(Path folder, Path tokenizer) throws CheckpointRejectedException {
        checkConfig(folder.resolve("config.json"));
        try (Gpt2Checkpoint ignored = Gpt2Checkpoint.open(folder)) {
            // Opening reads and checks the header only.
        } catch (IllegalArgumentException e) {
            throw new CheckpointRejectedException(firstLine(e.getMessage()), e);
        }
        if (tokenizer == null || !Files.isRegularFile(tokenizer)) {
            throw new CheckpointRejectedException("no " + Gpt2Tokenizer.FILE_NAME + " in the checkpoint folder, beside it, "
                    + "or given with --tokenizer");
        }
        try (Gpt2Tokenizer ignored = Gpt2Tokenizer.load(tokenizer)) {
            // Loading is the check.
        } catch (RuntimeException e) {
            throw new CheckpointRejectedException("tokenizer " + tokenizer + " does not load: " + firstLine(e.getMessage()), e);
        }
    }

    private static String firstLine(String message) {
        return message == null ? "unreadable" : message.lines().findFirst().orElse("unreadable");
    }
}
