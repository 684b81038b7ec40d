package io.neuronexplainer.producer.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The shared random window sample: seeded, uniform, complete on short streams, order-free and mergeable. */
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
    void offerSaysWhetherTheSampleNowHoldsTheWindow() {
        // The pass keeps a window's maxima exactly when offer says the sample took it.
        WindowReservoir r = new WindowReservoir(15, 42);
        java.util.Set<Long> taken = new java.util.HashSet<>();
        for (int i = 0; i < 2_000; i++) {
            if (r.offer(new CorpusWindow(i, new int[] {i}))) {
                taken.add((long) i);
            }
            java.util.Set<Long> held = java.util.Set.copyOf(r.sample().stream().map(CorpusWindow::index).toList());
            assertEquals(held.contains((long) i), taken.contains((long) i), "window " + i);
        }
        assertTrue(taken.containsAll(r.sample().stream().map(CorpusWindow::index).toList()));
        assertTrue(taken.size() > 15 && taken.size() < 200, "taken " + taken.size());
    }

    @Test
    void amongFirstMatchesTheSamplesPrefixAndOnlyEntrantsCanJoinIt() {
        // The pass keeps per-token values of a window exactly when it enters the sample's first 5.
        WindowReservoir r = new WindowReservoir(15, 42);
        java.util.Set<Long> entered = new java.util.HashSet<>();
        for (int i = 0; i < 2_000; i++) {
            r.offer(new CorpusWindow(i, new int[] {i}));
            List<Long> first = r.sample().stream().limit(5).map(CorpusWindow::index).toList();
            if (r.amongFirst(i, 5)) {
                entered.add((long) i);
            }
            for (int j = Math.max(0, i - 40); j <= i; j++) {
                assertEquals(first.contains((long) j), r.amongFirst(j, 5), "window " + j + " after " + i);
            }
            assertTrue(entered.containsAll(first), "every window of the first 5 was among them when offered");
        }
        assertTrue(entered.size() < 60, "entered " + entered.size());
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

    private static List<Long> indices(WindowReservoir r) {
        return r.sample().stream().map(CorpusWindow::index).toList();
    }

    @Test
    void theOrderOfOffersDoesNotMatter() {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(3));
        WindowReservoir shuffled = new WindowReservoir(15, 42);
        order.forEach(i -> shuffled.offer(new CorpusWindow(i, new int[] {i})));
        assertEquals(sample(15, 42, 5_000), indices(shuffled));
        assertEquals(5_000, shuffled.seen());
    }

    @Test
    void mergedPartsEqualOnePassInAnyOrder() {
        int windows = 7_000;
        // Three uneven parts, as shards of a corpus are.
        int[] cuts = {0, 1_000, 4_500, windows};
        List<WindowReservoir> parts = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            WindowReservoir r = new WindowReservoir(15, 9);
            for (int i = cuts[p]; i < cuts[p + 1]; i++) {
                r.offer(new CorpusWindow(i, new int[] {i}));
            }
            parts.add(r);
        }
        List<Long> onePass = sample(15, 9, windows);
        for (int[] order : new int[][] {{0, 1, 2}, {2, 0, 1}, {1, 2, 0}}) {
            WindowReservoir merged = parts.get(order[0]).copy();
            merged.merge(parts.get(order[1]));
            merged.merge(parts.get(order[2]));
            assertEquals(onePass, indices(merged), "order " + java.util.Arrays.toString(order));
            assertEquals(windows, merged.seen());
        }
        // Associative: (a + b) + c == a + (b + c).
        WindowReservoir bc = parts.get(1).copy();
        bc.merge(parts.get(2));
        WindowReservoir a = parts.get(0).copy();
        a.merge(bc);
        assertEquals(onePass, indices(a));
        // The parts themselves were not changed by merging copies of them.
        assertEquals(1_000, parts.get(0).seen());
    }

    @Test
    void aWindowBothSidesHoldIsKeptOnce() {
        WindowReservoir a = new WindowReservoir(5, 1);
        WindowReservoir b = new WindowReservoir(5, 1);
        for (int i = 0; i < 3; i++) {
            a.offer(new CorpusWindow(i, new int[] {i}));
            b.offer(new CorpusWindow(i, new int[] {i}));
        }
        a.merge(b);
        assertEquals(3, indices(a).stream().distinct().count());
        assertEquals(3, indices(a).size());
    }
}
