package io.neuronexplainer.producer.sampling;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Keeps, for every neuron of one layer, its top-K windows by max activation over the window's
 * tokens, with the neuron's activation at each token of them, in one pass and in memory fixed
 * by (neurons, K, tokens) whatever the corpus size. Ties go to the lower window index (the
 * earlier window), so results do not depend on batch sizes. It also sums every activation, for
 * the neuron's mean.
 *
 * <p>Hot path: one sequential pass per window over its [token][neuron] block computes every
 * neuron's window max (and sum) in scratch arrays, a token's row at a time, in a loop the JIT
 * vectorises; a neuron's heap is only touched when that max reaches its current K-th best, and
 * only then are the window's token activations copied (a strided gather). After the first
 * windows almost no window enters, so the cost is close to one read of the activations.
 * Hand-written: no library offers a primitive-array per-key top-K.
 */
public final class LayerTopK {
    /** Max descending, then window index ascending; unboxed (a boxing comparator showed in the emission's profile). */
    private static final Comparator<TopWindow> BEST_FIRST = (a, b) -> {
        int byMax = Float.compare(b.maxActivation(), a.maxActivation());
        return byMax != 0 ? byMax : Long.compare(a.windowIndex(), b.windowIndex());
    };
    private final int neurons;
    private final int k;
    private final int tokens;
    // Per neuron a min-heap of its kept windows, worst at the root: heap arrays are [neuron][k].
    private final float[] heapMax;
    private final long[] heapIndex;
    private final int[] heapSlot;
    /** Token activations of kept windows: [neuron][slot][token]; a heap entry points to its slot. */
    private final float[] kept;
    private final int[] size;
    /** The root's max once a neuron's heap is full, -inf before: the bar a window must reach. */
    private final float[] threshold;
    private final double[] sums;
    private final float[] windowMax;
    private final float[] windowSum;
    /** One token's activations, copied out of the batch so that {@link #fold} vectorises. */
    private final float[] row;
    /** Each neuron's max over each window of the last batch offered, [window * neurons + neuron]. */
    private float[] batchMaxima = new float[0];
    private long windowsSeen;

    public LayerTopK(int neurons, int k, int tokensPerWindow) {
        if (neurons <= 0 || k <= 0 || tokensPerWindow <= 0) {
            throw new IllegalArgumentException("LayerTopK needs positive neurons, k and tokens, not "
                    + neurons + ", " + k + ", " + tokensPerWindow);
        }
        long keptValues = (long) neurons * k * tokensPerWindow;
        if (keptValues > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("top-k " + k + " x " + neurons + " neurons x " + tokensPerWindow
                    + " tokens is too many values for one layer; lower --top-k");
        }
        this.neurons = neurons;
        this.k = k;
        this.tokens = tokensPerWindow;
        this.heapMax = new float[neurons * k];
        this.heapIndex = new long[neurons * k];
        this.heapSlot = new int[neurons * k];
        this.kept = new float[(int) keptValues];
        this.size = new int[neurons];
        this.threshold = new float[neurons];
        java.util.Arrays.fill(threshold, Float.NEGATIVE_INFINITY);
        this.sums = new double[neurons];
        this.windowMax = new float[neurons];
        this.windowSum = new float[neurons];
        this.row = new float[neurons];
    }

    /**
     * Offers a batch to several layers' top-Ks at once, {@code activations[i]} to {@code layers.get(i)},
     * the layers in parallel: each layer's state is its own, and done one after another this
     * Java-side step left a core idle between forward passes (a tenth of the producer's time).
     */
    public static void offerAll(List<LayerTopK> layers, float[][] activations, int windows, long firstWindowIndex) {
        if (activations.length != layers.size()) {
            throw new IllegalArgumentException(activations.length + " activation arrays for " + layers.size() + " layers");
        }
        java.util.stream.IntStream.range(0, layers.size()).parallel()
                .forEach(i -> layers.get(i).offer(activations[i], windows, firstWindowIndex));
    }

    /**
     * Offers {@code windows} consecutive windows, numbered from {@code firstWindowIndex}, whose
     * activations are laid out [window][token][neuron]. A window whose max is NaN is never kept.
     */
    public void offer(float[] activations, int windows, long firstWindowIndex) {
        int block = tokens * neurons;
        if (windows < 0 || activations.length < (long) windows * block) {
            throw new IllegalArgumentException("expected " + windows + " windows x " + tokens + " tokens x "
                    + neurons + " neurons = " + (long) windows * block + " values, got " + activations.length);
        }
        float[] max = windowMax;
        float[] sum = windowSum;
        if (batchMaxima.length < windows * neurons) {
            batchMaxima = new float[windows * neurons];
        }
        for (int w = 0; w < windows; w++) {
            int base = w * block;
            System.arraycopy(activations, base, max, 0, neurons);
            System.arraycopy(activations, base, sum, 0, neurons);
            for (int t = 1; t < tokens; t++) {
                System.arraycopy(activations, base + t * neurons, row, 0, neurons);
                fold(row, max, sum);
            }
            System.arraycopy(max, 0, batchMaxima, w * neurons, neurons);
            long index = firstWindowIndex + w;
            for (int n = 0; n < neurons; n++) {
                sums[n] += sum[n];
                if (max[n] >= threshold[n]) {
                    consider(n, max[n], index, activations, base);
                }
            }
        }
        windowsSeen += windows;
    }

    /**
     * One token's row into the window's running max and sum. The row is copied out first because
     * C2 (JDK 17, and 25 alike) does not vectorise a loop that reads one array at a variable offset
     * and writes another, which might overlap it: read in place, this step ran 5x slower (~2 s more
     * of a 38 s gpt2-small benchmark).
     */
    private static void fold(float[] row, float[] max, float[] sum) {
        for (int n = 0; n < row.length; n++) {
            float v = row[n];
            max[n] = Math.max(max[n], v);
            sum[n] += v;
        }
    }

    private void consider(int n, float max, long index, float[] activations, int base) {
        int h = n * k;
        int s = size[n];
        if (s < k) {
            copyTokens(n, s, activations, base);
            heapMax[h + s] = max;
            heapIndex[h + s] = index;
            heapSlot[h + s] = s;
            siftUp(h, s);
            size[n] = s + 1;
            if (s + 1 == k) {
                threshold[n] = heapMax[h];
            }
            return;
        }
        // Full: max >= the root's. Equal maxima: the lower window index wins.
        if (max == heapMax[h] && index >= heapIndex[h]) {
            return;
        }
        copyTokens(n, heapSlot[h], activations, base);
        heapMax[h] = max;
        heapIndex[h] = index;
        siftDown(h, k);
        threshold[n] = heapMax[h];
    }

    private void copyTokens(int n, int slot, float[] activations, int base) {
        int to = (n * k + slot) * tokens;
        for (int t = 0, from = base + n; t < tokens; t++, from += neurons) {
            kept[to + t] = activations[from];
        }
    }

    /** True when entry i is a worse window than entry j: lower max, or equal max and later. */
    private boolean worse(int i, int j) {
        return heapMax[i] < heapMax[j] || (heapMax[i] == heapMax[j] && heapIndex[i] > heapIndex[j]);
    }

    private void siftUp(int h, int pos) {
        while (pos > 0) {
            int parent = (pos - 1) >>> 1;
            if (!worse(h + pos, h + parent)) {
                return;
            }
            swap(h + pos, h + parent);
            pos = parent;
        }
    }

    private void siftDown(int h, int count) {
        int pos = 0;
        while (true) {
            int left = 2 * pos + 1;
            if (left >= count) {
                return;
            }
            int child = left + 1 < count && worse(h + left + 1, h + left) ? left + 1 : left;
            if (!worse(h + child, h + pos)) {
                return;
            }
            swap(h + pos, h + child);
            pos = child;
        }
    }

    private void swap(int i, int j) {
        float m = heapMax[i];
        heapMax[i] = heapMax[j];
        heapMax[j] = m;
        long x = heapIndex[i];
        heapIndex[i] = heapIndex[j];
        heapIndex[j] = x;
        int s = heapSlot[i];
        heapSlot[i] = heapSlot[j];
        heapSlot[j] = s;
    }

    /**
     * Each neuron's max over each window of the batch last {@link #offer offered}, [window * neurons +
     * neuron]: read, not copied, and overwritten by the next offer. The pass takes its random sample's
     * maxima from here: computed again from the activations, they took ~1 s of a 24 s pass on one thread.
     */
    public float[] lastBatchMaxima() {
        return batchMaxima;
    }

    /** An independent copy: plain array copies, so a snapshot costs one read of the arrays. */
    public LayerTopK copy() {
        LayerTopK c = new LayerTopK(neurons, k, tokens);
        System.arraycopy(heapMax, 0, c.heapMax, 0, heapMax.length);
        System.arraycopy(heapIndex, 0, c.heapIndex, 0, heapIndex.length);
        System.arraycopy(heapSlot, 0, c.heapSlot, 0, heapSlot.length);
        System.arraycopy(kept, 0, c.kept, 0, kept.length);
        System.arraycopy(size, 0, c.size, 0, size.length);
        System.arraycopy(threshold, 0, c.threshold, 0, threshold.length);
        System.arraycopy(sums, 0, c.sums, 0, sums.length);
        c.windowsSeen = windowsSeen;
        return c;
    }

    /**
     * Adds {@code other}'s windows (another part of the corpus) to this one: per neuron the union
     * of both kept sets, of which the top K by max activation stay, ties to the lower window
     * index, the rule {@link #offer} applies, so merged parts keep exactly the windows one pass
     * over all of them keeps. Sums and windows seen add (the mean may differ from one pass's in
     * the last bits of a double: addition in another order). A window both keep counts once.
     */
    public void merge(LayerTopK other) {
        if (other.neurons != neurons || other.k != k || other.tokens != tokens) {
            throw new IllegalArgumentException("cannot merge a top-" + other.k + " of " + other.neurons + " neurons x "
                    + other.tokens + " tokens into a top-" + k + " of " + neurons + " neurons x " + tokens + " tokens");
        }
        float[] candMax = new float[2 * k];
        long[] candIndex = new long[2 * k];
        int[] candOffset = new int[2 * k]; // where its token activations are: in mine or in other.kept
        int[] order = new int[2 * k];
        int[] chosen = new int[k];
        float[] mine = new float[k * tokens];
        for (int n = 0; n < neurons; n++) {
            int h = n * k;
            int mineCount = size[n];
            int count = 0;
            for (int i = 0; i < mineCount; i++, count++) {
                candMax[count] = heapMax[h + i];
                candIndex[count] = heapIndex[h + i];
                candOffset[count] = heapSlot[h + i] * tokens;
            }
            for (int i = 0; i < other.size[n]; i++, count++) {
                candMax[count] = other.heapMax[h + i];
                candIndex[count] = other.heapIndex[h + i];
                candOffset[count] = (h + other.heapSlot[h + i]) * tokens;
            }
            // Insertion sort, best first: at most 2K entries.
            for (int i = 0; i < count; i++) {
                int j = i;
                while (j > 0 && better(candMax, candIndex, i, order[j - 1])) {
                    order[j] = order[j - 1];
                    j--;
                }
                order[j] = i;
            }
            int keep = 0;
            for (int r = 0; r < count && keep < k; r++) {
                int c = order[r];
                if (keep > 0 && candIndex[chosen[keep - 1]] == candIndex[c]) {
                    continue; // the same window from both sides (so the same max, adjacent)
                }
                chosen[keep++] = c;
            }
            System.arraycopy(kept, h * tokens, mine, 0, k * tokens);
            // Stored worst first: a list sorted from worst to best is a valid min-heap.
            for (int i = 0; i < keep; i++) {
                int c = chosen[keep - 1 - i];
                heapMax[h + i] = candMax[c];
                heapIndex[h + i] = candIndex[c];
                heapSlot[h + i] = i;
                System.arraycopy(c < mineCount ? mine : other.kept, candOffset[c], kept, (h + i) * tokens, tokens);
            }
            size[n] = keep;
            threshold[n] = keep == k ? heapMax[h] : Float.NEGATIVE_INFINITY;
            sums[n] += other.sums[n];
        }
        windowsSeen += other.windowsSeen;
    }

    private static boolean better(float[] max, long[] index, int i, int j) {
        return max[i] > max[j] || (max[i] == max[j] && index[i] < index[j]);
    }

    /** Bytes {@link #writeTo} writes for a layer of this shape. */
    public static long serializedBytes(int neurons, int k, int tokens) {
        long entries = (long) neurons * k;
        return 8 + 4L * neurons + entries * (4 + 8 + 4) + entries * tokens * 4 + 8L * neurons;
    }

    /** Writes the whole table, array by array: windows seen, sizes, heaps, kept activations, sums. */
    public void writeTo(StateOutput out) throws IOException {
        out.writeLong(windowsSeen);
        out.writeInts(size, 0, size.length);
        out.writeFloats(heapMax, 0, heapMax.length);
        out.writeLongs(heapIndex, 0, heapIndex.length);
        out.writeInts(heapSlot, 0, heapSlot.length);
        out.writeFloats(kept, 0, kept.length);
        out.writeDoubles(sums, 0, sums.length);
    }

    /** Reads what {@link #writeTo} wrote for a table of this shape; an inconsistent table is an {@link IOException}. */
    public static LayerTopK readFrom(StateInput in, int neurons, int k, int tokens) throws IOException {
        LayerTopK t = new LayerTopK(neurons, k, tokens);
        t.windowsSeen = in.readLong();
        in.readInts(t.size, 0, t.size.length);
        in.readFloats(t.heapMax, 0, t.heapMax.length);
        in.readLongs(t.heapIndex, 0, t.heapIndex.length);
        in.readInts(t.heapSlot, 0, t.heapSlot.length);
        in.readFloats(t.kept, 0, t.kept.length);
        in.readDoubles(t.sums, 0, t.sums.length);
        if (t.windowsSeen < 0) {
            throw new IOException("negative windows seen");
        }
        for (int n = 0; n < neurons; n++) {
            if (t.size[n] < 0 || t.size[n] > k) {
                throw new IOException("neuron " + n + " keeps " + t.size[n] + " windows, more than " + k);
            }
            for (int i = 0; i < t.size[n]; i++) {
                if (t.heapSlot[n * k + i] < 0 || t.heapSlot[n * k + i] >= k) {
                    throw new IOException("neuron " + n + " has a window in slot " + t.heapSlot[n * k + i]);
                }
            }
            t.threshold[n] = t.size[n] == k ? t.heapMax[n * k] : Float.NEGATIVE_INFINITY;
        }
        return t;
    }

    /** A neuron's kept windows, best first (max descending, then window index ascending). */
    public List<TopWindow> top(int neuron) {
        int h = neuron * k;
        List<TopWindow> result = new ArrayList<>(size[neuron]);
        for (int i = 0; i < size[neuron]; i++) {
            int from = (neuron * k + heapSlot[h + i]) * tokens;
            result.add(new TopWindow(heapIndex[h + i], heapMax[h + i],
                    java.util.Arrays.copyOfRange(kept, from, from + tokens)));
        }
        result.sort(BEST_FIRST);
        return result;
    }

    /** Calls {@code action} with the index of every window some neuron keeps (repeats included). */
    public void forEachKeptWindow(LongConsumer action) {
        for (int n = 0; n < neurons; n++) {
            for (int i = 0; i < size[n]; i++) {
                action.accept(heapIndex[n * k + i]);
            }
        }
    }

    /** The neuron's mean activation over every token offered. */
    public double mean(int neuron) {
        return windowsSeen == 0 ? 0 : sums[neuron] / ((double) windowsSeen * tokens);
    }

    public long windowsSeen() {
        return windowsSeen;
    }

    public int neurons() {
        return neurons;
    }

    public int k() {
        return k;
    }

    public int tokensPerWindow() {
        return tokens;
    }
}
