package io.neuronexplainer.producer.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The single-pass top-K against a brute-force sort of a synthetic activation stream. */
class LayerTopKTest {
    private static final int TOKENS = 8;
    private static final int NEURONS = 37;

    /** A stream of windows, [window][token][neuron], with values drawn from {@code levels} (few levels = many ties). */
    private static float[][] stream(int windows, float[] levels, long seed) {
        Random random = new Random(seed);
        float[][] all = new float[windows][TOKENS * NEURONS];
        for (float[] w : all) {
            for (int i = 0; i < w.length; i++) {
                w[i] = levels[random.nextInt(levels.length)];
            }
        }
        return all;
    }

    /** Brute force: every window's max for the neuron, sorted max descending then index ascending, first K. */
    private static List<TopWindow> bruteForce(float[][] stream, int neuron, int k) {
        List<TopWindow> all = new ArrayList<>();
        for (int w = 0; w < stream.length; w++) {
            float[] acts = new float[TOKENS];
            float max = Float.NEGATIVE_INFINITY;
            for (int t = 0; t < TOKENS; t++) {
                acts[t] = stream[w][t * NEURONS + neuron];
                max = Math.max(max, acts[t]);
            }
            all.add(new TopWindow(w, max, acts));
        }
        all.sort(Comparator.comparing(TopWindow::maxActivation, Comparator.reverseOrder())
                .thenComparingLong(TopWindow::windowIndex));
        return all.subList(0, Math.min(k, all.size()));
    }

    /** Offers the stream in batches of random sizes, optionally with the batches in reverse order. */
    private static LayerTopK singlePass(float[][] stream, int k, long seed, boolean reversed) {
        LayerTopK top = new LayerTopK(NEURONS, k, TOKENS);
        Random random = new Random(seed);
        List<int[]> batches = new ArrayList<>();
        for (int from = 0; from < stream.length; ) {
            int size = Math.min(stream.length - from, 1 + random.nextInt(7));
            batches.add(new int[] {from, size});
            from += size;
        }
        if (reversed) {
            java.util.Collections.reverse(batches);
        }
        int block = TOKENS * NEURONS;
        for (int[] b : batches) {
            float[] batch = new float[b[1] * block];
            for (int w = 0; w < b[1]; w++) {
                System.arraycopy(stream[b[0] + w], 0, batch, w * block, block);
            }
            top.offer(batch, b[1], b[0]);
        }
        return top;
    }

    private static void assertSameAsBruteForce(float[][] stream, int k, long seed, boolean reversed) {
        LayerTopK top = singlePass(stream, k, seed, reversed);
        for (int n = 0; n < NEURONS; n++) {
            List<TopWindow> expected = bruteForce(stream, n, k);
            List<TopWindow> actual = top.top(n);
            assertEquals(expected.size(), actual.size(), "neuron " + n);
            for (int i = 0; i < expected.size(); i++) {
                String where = "neuron " + n + " rank " + i;
                assertEquals(expected.get(i).windowIndex(), actual.get(i).windowIndex(), where);
                assertEquals(expected.get(i).maxActivation(), actual.get(i).maxActivation(), where);
                assertArrayEquals(expected.get(i).activations(), actual.get(i).activations(), where);
            }
        }
    }

    @Test
    void equalsBruteForceOnContinuousValues() {
        float[] levels = new float[1000];
        for (int i = 0; i < levels.length; i++) {
            levels[i] = (i - 200) * 0.0137f;
        }
        assertSameAsBruteForce(stream(300, levels, 1), 20, 11, false);
    }

    @Test
    void tiesGoToTheLowerWindowIndex() {
        float[][] stream = stream(200, new float[] {-0.5f, 0f, 0.5f, 1f}, 2);
        // With four levels nearly every window's max is 1.0: the top-5 must be the first five such windows.
        assertSameAsBruteForce(stream, 5, 12, false);
        LayerTopK top = singlePass(stream, 5, 12, false);
        List<TopWindow> first = top.top(0);
        for (int i = 1; i < first.size(); i++) {
            assertTrue(first.get(i - 1).windowIndex() < first.get(i).windowIndex(), "equal maxima in index order");
        }
    }

    @Test
    void tieBreakingDoesNotDependOnOfferOrder() {
        float[][] stream = stream(150, new float[] {0f, 1f, 2f}, 3);
        assertSameAsBruteForce(stream, 7, 13, true);
    }

    @Test
    void kLargerThanTheWindowsKeepsThemAll() {
        float[][] stream = stream(4, new float[] {-1f, 0.25f, 3f}, 4);
        assertSameAsBruteForce(stream, 10, 14, false);
        assertEquals(4, singlePass(stream, 10, 14, false).top(5).size());
        assertSameAsBruteForce(stream(0, new float[] {0f}, 5), 3, 15, false);
    }

    @Test
    void kOfOneAndAllNegativeValues() {
        assertSameAsBruteForce(stream(60, new float[] {-3f, -2f, -1.5f}, 6), 1, 16, false);
    }

    @Test
    void meanIsOverEveryTokenOffered() {
        float[][] stream = stream(30, new float[] {-1f, 0f, 0.5f, 2f}, 7);
        LayerTopK top = singlePass(stream, 3, 17, false);
        for (int n = 0; n < NEURONS; n++) {
            double sum = 0;
            for (float[] w : stream) {
                for (int t = 0; t < TOKENS; t++) {
                    sum += w[t * NEURONS + n];
                }
            }
            assertEquals(sum / (30 * TOKENS), top.mean(n), 1e-6);
        }
        assertEquals(30, top.windowsSeen());
    }

    @Test
    void refusesAnArrayOfTheWrongSize() {
        LayerTopK top = new LayerTopK(NEURONS, 3, TOKENS);
        assertThrows(IllegalArgumentException.class, () -> top.offer(new float[TOKENS * NEURONS], 2, 0));
    }
}
