package io.neuronexplainer.watcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Steps from the default revision pattern (Pythia, OLMo and demo names) and from training_state.json. */
class CheckpointStepTest {
    private static final Pattern DEFAULT = Pattern.compile(CheckpointStep.DEFAULT_PATTERN);

    @Test
    void defaultPatternReadsPythiaOlmoAndZeroPaddedNames() {
        assertEquals(1000L, CheckpointStep.fromName("step1000", DEFAULT));
        assertEquals(1000L, CheckpointStep.fromName("step1000-tokens4B", DEFAULT));
        assertEquals(300L, CheckpointStep.fromName("step-000300", DEFAULT));
        assertEquals(42L, CheckpointStep.fromName("step_42", DEFAULT));
        assertNull(CheckpointStep.fromName("final", DEFAULT));
        assertNull(CheckpointStep.fromName("main", DEFAULT));
    }

    @Test
    void trainingStateGivesAnIntegerStepOrNull() {
        assertEquals(6000L, CheckpointStep.fromTrainingState("{\"step\": 6000, \"tokens_seen\": 98304000}"));
        assertNull(CheckpointStep.fromTrainingState("{\"step\": 1.5}"));
        assertNull(CheckpointStep.fromTrainingState("{\"epoch\": 3}"));
        assertNull(CheckpointStep.fromTrainingState("{\"step\": 60"));
    }
}
