package io.neuronexplainer.watcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A checkpoint's training step, which orders its release: the first group of
 * {@code --revision-pattern} in its branch or folder name, else the {@code step} field of its
 * {@code training_state.json}. The default, {@code step[-_]?(\d+)}, reads Pythia's {@code step1000},
 * OLMo's {@code step1000-tokens4B} and zero-padded folders such as {@code step-000300}.
 */
public final class CheckpointStep {
    public static final String DEFAULT_PATTERN = "step[-_]?(\\d+)";
    public static final String TRAINING_STATE = "training_state.json";

    private CheckpointStep() {}

    /** The step the name gives, or null when the pattern does not match. */
    public static Long fromName(String name, Pattern pattern) {
        Matcher m = pattern.matcher(name);
        if (!m.find()) {
            return null;
        }
        String digits = m.groupCount() >= 1 ? m.group(1) : m.group();
        try {
            return Long.parseLong(digits.replaceAll("[^0-9]", ""));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The integer {@code step} of a training_state.json text, or null when it has none or is not JSON. */
    public static Long fromTrainingState(String json) {
        try {
            JsonNode step = new ObjectMapper().readTree(json).path("step");
            return step.canConvertToLong() && step.isIntegralNumber() ? step.asLong() : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
