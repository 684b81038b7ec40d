package io.neuronexplainer.producer.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
        return part(stream, 0, stream.length, k, seed, reversed);
    }

    /** As {@link #singlePass} over windows [from, to) of the stream only, numbered as in the stream. */
    private static LayerTopK part(float[][] stream, int from, int to, int k, long seed, boolean reversed) {
        LayerTopK top = new LayerTopK(NEURONS, k, TOKENS);
        offer(top, stream, from, to, seed, reversed);
        return top;
    }

    private static void offer(LayerTopK top, float[][] stream, int from, int to, long seed, boolean reversed) {
        Random random = new Random(seed);
        List<int[]> batches = new ArrayList<>();
        for (int at = from; at < to; ) {
            int size = Math.min(to - at, 1 + random.nextInt(7));
            batches.add(new int[] {at, size});
            at += size;
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
            // The batch's per-window maxima the pass takes its random sample's from.
            float[] maxima = top.lastBatchMaxima();
            for (int w = 0; w < b[1]; w++) {
                for (int n = 0; n < NEURONS; n++) {
                    float max = Float.NEGATIVE_INFINITY;
                    for (int t = 0; t < TOKENS; t++) {
                        max = Math.max(max, stream[b[0] + w][t * NEURONS + n]);
                    }
                    assertEquals(max, maxima[w * NEURONS + n], "window " + (b[0] + w) + " neuron " + n);
                }
            }
        }
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

    /** Bit-exact equality of two tables: every neuron's kept windows, max, token values; mean; windows seen. */
    private static void assertSameTable(LayerTopK expected, LayerTopK actual, String where) {
        assertEquals(expected.windowsSeen(), actual.windowsSeen(), where);
        for (int n = 0; n < NEURONS; n++) {
            List<TopWindow> e = expected.top(n);
            List<TopWindow> a = actual.top(n);
            assertEquals(e.size(), a.size(), where + " neuron " + n);
            for (int i = 0; i < e.size(); i++) {
                String at = where + " neuron " + n + " rank " + i;
                assertEquals(e.get(i).windowIndex(), a.get(i).windowIndex(), at);
                assertEquals(Float.floatToRawIntBits(e.get(i).maxActivation()),
                        Float.floatToRawIntBits(a.get(i).maxActivation()), at);
                assertArrayEquals(e.get(i).activations(), a.get(i).activations(), at);
            }
            assertEquals(expected.mean(n), actual.mean(n), where + " neuron " + n + " mean");
        }
    }

    @Test
    void mergedShardsEqualOnePassInAnyOrder() {
        // Quarter steps: sums are exact in a double, so even the means are bit-exact.
        float[] levels = {-1f, -0.25f, 0f, 0.5f, 1.25f, 2f, 3.75f};
        float[][] stream = stream(400, levels, 21);
        int[] cuts = {0, 96, 250, 400};
        LayerTopK one = singlePass(stream, 6, 31, false);
        List<LayerTopK> shards = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            shards.add(part(stream, cuts[p], cuts[p + 1], 6, 40 + p, false));
        }
        for (int[] order : new int[][] {{0, 1, 2}, {2, 1, 0}, {1, 0, 2}, {2, 0, 1}}) {
            LayerTopK merged = shards.get(order[0]).copy();
            merged.merge(shards.get(order[1]));
            merged.merge(shards.get(order[2]));
            assertSameTable(one, merged, "order " + java.util.Arrays.toString(order));
        }
        LayerTopK right = shards.get(1).copy();
        right.merge(shards.get(2));
        LayerTopK left = shards.get(0).copy();
        left.merge(right);
        assertSameTable(one, left, "a + (b + c)");
    }

    @Test
    void mergedContinuousValuesKeepTheSameWindowsAndNearlyTheSameMean() {
        float[] levels = new float[1000];
        for (int i = 0; i < levels.length; i++) {
            levels[i] = (i - 200) * 0.0137f;
        }
        float[][] stream = stream(300, levels, 22);
        LayerTopK one = singlePass(stream, 20, 32, false);
        LayerTopK merged = part(stream, 150, 300, 20, 33, false);
        merged.merge(part(stream, 0, 150, 20, 34, true));
        for (int n = 0; n < NEURONS; n++) {
            assertEquals(one.top(n).stream().map(TopWindow::windowIndex).toList(),
                    merged.top(n).stream().map(TopWindow::windowIndex).toList());
            assertEquals(one.mean(n), merged.mean(n), 1e-12 * Math.max(1, Math.abs(one.mean(n))));
        }
    }

    @Test
    void aMergedTableGoesOnTakingWindowsLikeOnePass() {
        float[][] stream = stream(300, new float[] {0f, 0.5f, 1f, 1.5f}, 23);
        LayerTopK merged = part(stream, 0, 100, 5, 41, false);
        merged.merge(part(stream, 100, 180, 5, 42, false));
        offer(merged, stream, 180, 300, 43, false);
        assertSameTable(singlePass(stream, 5, 44, false), merged, "merged, then offered more");
    }

    @Test
    void mergingAnEmptyTableChangesNothingAndShapesMustAgree() {
        float[][] stream = stream(50, new float[] {0f, 1f, 2f}, 24);
        LayerTopK merged = singlePass(stream, 4, 45, false);
        merged.merge(new LayerTopK(NEURONS, 4, TOKENS));
        assertSameTable(singlePass(stream, 4, 45, false), merged, "plus empty");
        LayerTopK empty = new LayerTopK(NEURONS, 4, TOKENS);
        empty.merge(singlePass(stream, 4, 45, false));
        assertSameTable(singlePass(stream, 4, 45, false), empty, "empty plus");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> merged.merge(new LayerTopK(NEURONS, 5, TOKENS)));
        assertEquals("cannot merge a top-5 of 37 neurons x 8 tokens into a top-4 of 37 neurons x 8 tokens", e.getMessage());
    }

    @Test
    void writtenAndReadBackItIsTheSameTable() throws IOException {
        float[][] stream = stream(120, new float[] {-1f, 0f, 0.75f, 2.5f}, 25);
        LayerTopK top = singlePass(stream, 7, 46, false);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StateOutput out = new StateOutput(bytes);
        top.writeTo(out);
        out.writeChecksum();
        assertEquals(LayerTopK.serializedBytes(NEURONS, 7, TOKENS) + 4, bytes.size());
        StateInput in = new StateInput(new ByteArrayInputStream(bytes.toByteArray()));
        LayerTopK back = LayerTopK.readFrom(in, NEURONS, 7, TOKENS);
        assertTrue(in.verifyChecksum());
        assertSameTable(top, back, "read back");
        // And it goes on like the original.
        offer(back, stream(10, new float[] {3f}, 26), 0, 10, 47, false);
        offer(top, stream(10, new float[] {3f}, 26), 0, 10, 47, false);
        assertSameTable(top, back, "read back, then offered more");
    }
}
