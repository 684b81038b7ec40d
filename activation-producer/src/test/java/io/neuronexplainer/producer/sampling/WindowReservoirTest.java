package io.neuronexplainer.producer.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The shared random window sample: seeded, uniform, and complete on short streams. */
class WindowReservoirTest {

    private static List<Long> sample(int capacity, long seed, int windows) {
        WindowReservoir r = new WindowReservoir(capacity, seed);
        for (int i = 0; i < windows; i++) {
            r.offer(new CorpusWindow(i, new int[] {i}));
        }
        return r.sample().stream().map(CorpusWindow::index).toList();
    }

    @Test
    void sameSeedSameSampleOtherSeedOtherSample() {
        assertEquals(sample(15, 42, 10_000), sample(15, 42, 10_000));
        assertNotEquals(sample(15, 42, 10_000), sample(15, 43, 10_000));
        assertEquals(15, sample(15, 42, 10_000).stream().distinct().count());
    }

    @Test
    void keepsEveryWindowOfAShortStream() {
        assertEquals(java.util.Set.of(0L, 1L, 2L), java.util.Set.copyOf(sample(15, 1, 3)));
        assertEquals(List.of(), sample(0, 1, 100));
    }

    @Test
    void everyWindowAndEverySlotPrefixIsEquallyLikely() {
        int windows = 50;
        int trials = 20_000;
        int[] inSample = new int[windows];
        int[] inFirstTwo = new int[windows];
        for (int seed = 0; seed < trials; seed++) {
            List<Long> s = sample(5, seed, windows);
            for (int i = 0; i < s.size(); i++) {
                inSample[s.get(i).intValue()]++;
                if (i < 2) {
                    inFirstTwo[s.get(i).intValue()]++;
                }
            }
        }
        // Expected 2,000 (5/50 of 20,000) and 800 (2/50): allow 5 standard deviations.
        for (int i = 0; i < windows; i++) {
            assertTrue(Math.abs(inSample[i] - 2000) < 5 * Math.sqrt(2000 * 0.9), "window " + i + ": " + inSample[i]);
            assertTrue(Math.abs(inFirstTwo[i] - 800) < 5 * Math.sqrt(800 * 0.96), "window " + i + " prefix: " + inFirstTwo[i]);
        }
    }
}
