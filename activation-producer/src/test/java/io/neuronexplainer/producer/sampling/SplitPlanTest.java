package io.neuronexplainer.producer.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which top ranks are explained on and which are scored on. */
class SplitPlanTest {

    @Test
    void defaultsInterleaveOverAllTwentyRanks() {
        SplitPlan p = SplitPlan.of(20, 5, 5);
        assertArrayEquals(new int[] {0, 4, 8, 12, 16}, p.explanationRanks());
        assertArrayEquals(new int[] {2, 6, 10, 14, 18}, p.scoringRanks());
    }

    @Test
    void splitsAreDisjointAndSizedForEveryCount() {
        for (int available = 0; available <= 25; available++) {
            for (int e = 1; e <= 6; e++) {
                for (int s = 0; s <= 6; s++) {
                    SplitPlan p = SplitPlan.of(available, e, s);
                    Set<Integer> all = new HashSet<>();
                    for (int r : p.explanationRanks()) {
                        assertTrue(r >= 0 && r < available && all.add(r));
                    }
                    for (int r : p.scoringRanks()) {
                        assertTrue(r >= 0 && r < available && all.add(r), "disjoint " + p);
                    }
                    assertEquals(Math.min(available, e + s), all.size());
                    assertTrue(p.explanationRanks().length <= e && p.scoringRanks().length <= s);
                    if (available > 0) {
                        assertEquals(0, p.explanationRanks()[0], "the best window is explained on");
                    }
                }
            }
        }
    }

    @Test
    void fewWindowsAreDealtAlternately() {
        SplitPlan p = SplitPlan.of(3, 5, 5);
        assertArrayEquals(new int[] {0, 2}, p.explanationRanks());
        assertArrayEquals(new int[] {1}, p.scoringRanks());
    }

    @Test
    void settingsRefuseMoreSplitWindowsThanTopK() {
        assertThrows(IllegalArgumentException.class, () -> new SamplingSettings(64, 8, 5, 5, 5, 50, 0));
    }
}
