package io.neuronexplainer.producer.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The shared random sample's size and seed. */
class SamplingSettingsTest {
    @Test
    void theSampleHoldsAtLeastTheDriftWindowsAndWhatScoringNeeds() {
        SamplingSettings defaults = SamplingSettings.defaults();
        assertEquals(50, defaults.driftWindows());
        assertEquals(15, defaults.scoringSampleSize(), "R 5 plus 5 + 5 spares for the neuron's own top windows");
        assertEquals(50, defaults.reservoirSize());
        assertEquals(15, new SamplingSettings(64, 20, 5, 5, 5, 0, 0L).reservoirSize(), "no drift sample: scoring's");
        assertEquals(80, new SamplingSettings(64, 80, 30, 30, 20, 50, 0L).reservoirSize(), "scoring needs more than 50");
        assertEquals(50, new SamplingSettings(64, 20, 5, 5, 0, 50, 0L).reservoirSize(), "no random scoring windows");
        assertEquals(0, new SamplingSettings(64, 20, 5, 5, 0, 0, 0L).reservoirSize());
        assertThrows(IllegalArgumentException.class, () -> new SamplingSettings(64, 20, 5, 5, 5, -1, 0L));
        assertThrows(IllegalArgumentException.class, () -> new SamplingSettings(64, 20, 5, 5, 5, 100_001, 0L));
    }

    @Test
    void theSampleSeedDependsOnTheCorpusAndTheUsersSeed() {
        long seed = SampleSeed.of("corpus-a", 0);
        assertEquals(seed, SampleSeed.of("corpus-a", 0), "the same for every checkpoint of a series");
        assertNotEquals(seed, SampleSeed.of("corpus-b", 0));
        assertNotEquals(seed, SampleSeed.of("corpus-a", 1));
        assertThrows(IllegalArgumentException.class, () -> SampleSeed.of("", 0));
    }
}
