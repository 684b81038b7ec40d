package io.neuronexplainer.scorer.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DriftFormulasTest {
    @Test
    void activationDriftIsZeroForTheSameMaximaAndTwoForReversedOnes() {
        Map<Long, Double> a = Map.of(1L, 0.5, 7L, 2.0, 9L, -0.25, 12L, 1.0);
        assertEquals(0, DriftFormulas.activationDrift(a, a).getAsDouble(), 1e-12);
        Map<Long, Double> scaled = Map.of(1L, 1.0, 7L, 4.0, 9L, -0.5, 12L, 2.0);
        assertEquals(0, DriftFormulas.activationDrift(a, scaled).getAsDouble(), 1e-12, "Pearson ignores scale");
        Map<Long, Double> negated = Map.of(1L, -0.5, 7L, -2.0, 9L, 0.25, 12L, -1.0);
        assertEquals(2, DriftFormulas.activationDrift(a, negated).getAsDouble(), 1e-12);
    }

    @Test
    void activationDriftPairsWindowsByIndexNotByOrder() {
        Map<Long, Double> a = Map.of(1L, 1.0, 2L, 2.0, 3L, 3.0);
        Map<Long, Double> b = Map.of(3L, 3.0, 1L, 1.0, 2L, 2.0, 99L, -50.0);
        assertEquals(0, DriftFormulas.activationDrift(a, b).getAsDouble(), 1e-12, "window 99 is in one sample only");
        // r of (1,2,3) against (1,3,2) is 0.5
        assertEquals(0.5, DriftFormulas.activationDrift(a, Map.of(1L, 1.0, 2L, 3.0, 3L, 2.0)).getAsDouble(), 1e-12);
    }

    @Test
    void activationDriftIsUndefinedForAConstantNeuron() {
        Map<Long, Double> a = Map.of(1L, 1.0, 2L, 2.0);
        assertTrue(DriftFormulas.activationDrift(a, Map.of(1L, 0.0, 2L, 0.0)).isEmpty());
        assertTrue(DriftFormulas.activationDrift(Map.of(1L, 1.0), Map.of(1L, 2.0)).isEmpty());
    }

    @Test
    void topWindowOverlapIsJaccard() {
        assertEquals(1, DriftFormulas.topWindowOverlap(Set.of(1L, 2L), Set.of(2L, 1L)), 1e-12);
        assertEquals(1.0 / 3, DriftFormulas.topWindowOverlap(Set.of(1L, 2L), Set.of(2L, 3L)), 1e-12);
        assertEquals(0, DriftFormulas.topWindowOverlap(Set.of(1L), Set.of(2L)), 1e-12);
        assertEquals(1, DriftFormulas.topWindowOverlap(Set.of(), Set.of()), 1e-12);
    }
}
