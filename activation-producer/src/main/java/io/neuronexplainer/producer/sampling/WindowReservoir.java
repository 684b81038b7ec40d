package io.neuronexplainer.producer.sampling;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A seeded uniform random sample of the windows of a stream of unknown length, shared by all
 * neurons: bottom-k sampling. Every window gets a priority, a 64-bit hash of (seed, window
 * index), and the sample is the {@code capacity} windows with the smallest priorities. Why
 * bottom-k rather than a sequential reservoir: the sample depends only on which windows were
 * offered, not on their order or on who offered them, so shards of a corpus sample on their own
 * and merge by keeping the smallest priorities of their union, and a snapshot is just the slots.
 * The sample is ordered by priority, a uniformly random order, so any prefix of it is a uniform
 * sample too: a neuron can skip sampled windows it already uses and take the next ones without
 * bias. It keeps only the windows' token ids; the pass keeps their maxima, and the per-token values
 * of the first ones, beside it, and the emission runs the model again over those it lacks them of.
 * A pass seeds it with {@link SampleSeed} (the corpus fingerprint and the user's seed), so every
 * checkpoint of a series samples the same windows.
 */
public final class WindowReservoir {
    private final int capacity;
    private final long seed;
    // A max-heap on (priority, index): the root is the window to drop first.
    private final long[] priority;
    private final CorpusWindow[] slots;
    private int size;
    private long seen;

    public WindowReservoir(int capacity, long seed) {
        if (capacity < 0) {
            throw new IllegalArgumentException("random sample size must be >= 0, not " + capacity);
        }
        this.capacity = capacity;
        this.seed = seed;
        this.priority = new long[capacity];
        this.slots = new CorpusWindow[capacity];
    }

    /** The priority of window {@code index} under {@code seed}: two rounds of SplitMix64's finaliser. */
    static long priority(long seed, long index) {
        return mix(seed ^ mix(index + 0x9E3779B97F4A7C15L));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** True when (p, i) sorts after (q, j): a larger priority, or the same and a later window. */
    private static boolean after(long p, long i, long q, long j) {
        return p > q || (p == q && i > j);
    }

    /** Offers a window; true if the sample now holds it. */
    public boolean offer(CorpusWindow window) {
        seen++;
        return keep(window);
    }

    private boolean keep(CorpusWindow window) {
        if (capacity == 0) {
            return false;
        }
        long p = priority(seed, window.index());
        if (size < capacity) {
            priority[size] = p;
            slots[size] = window;
            siftUp(size++);
            return true;
        } else if (after(priority[0], slots[0].index(), p, window.index())) {
            priority[0] = p;
            slots[0] = window;
            siftDown(0);
            return true;
        }
        return false;
    }

    private void siftUp(int pos) {
        while (pos > 0) {
            int parent = (pos - 1) >>> 1;
            if (!after(priority[pos], slots[pos].index(), priority[parent], slots[parent].index())) {
                return;
            }
            swap(pos, parent);
            pos = parent;
        }
    }

    private void siftDown(int pos) {
        while (true) {
            int left = 2 * pos + 1;
            if (left >= size) {
                return;
            }
            int child = left + 1 < size
                    && after(priority[left + 1], slots[left + 1].index(), priority[left], slots[left].index())
                    ? left + 1 : left;
            if (!after(priority[child], slots[child].index(), priority[pos], slots[pos].index())) {
                return;
            }
            swap(pos, child);
            pos = child;
        }
    }

    private void swap(int i, int j) {
        long p = priority[i];
        priority[i] = priority[j];
        priority[j] = p;
        CorpusWindow w = slots[i];
        slots[i] = slots[j];
        slots[j] = w;
    }

    /**
     * Adds {@code other}'s sample to this one, as if this reservoir had also been offered its
     * windows: the union keeping the smallest priorities. Associative and commutative; a window
     * both hold (the same index) is kept once.
     */
    public void merge(WindowReservoir other) {
        if (other.capacity != capacity || other.seed != seed) {
            throw new IllegalArgumentException("cannot merge random samples of " + other.capacity + " windows seed "
                    + other.seed + " into " + capacity + " windows seed " + seed);
        }
        for (int i = 0; i < other.size; i++) {
            CorpusWindow w = other.slots[i];
            if (!holds(w.index())) {
                keep(w);
            }
        }
        seen += other.seen;
    }

    /**
     * True when the sample holds window {@code index} among its first {@code n} in sample order: one
     * of the {@code n} smallest priorities offered so far. Such a window may stay among the first n
     * to the end; a window that is not can never become so.
     */
    public boolean amongFirst(long index, int n) {
        int at = -1;
        for (int i = 0; i < size && at < 0; i++) {
            if (slots[i].index() == index) {
                at = i;
            }
        }
        if (at < 0) {
            return false;
        }
        int before = 0;
        for (int i = 0; i < size; i++) {
            if (after(priority[at], slots[at].index(), priority[i], slots[i].index())) {
                before++;
            }
        }
        return before < n;
    }

    private boolean holds(long index) {
        for (int i = 0; i < size; i++) {
            if (slots[i].index() == index) {
                return true;
            }
        }
        return false;
    }

    /** The sample by ascending priority: every window when fewer than the capacity were offered. */
    public List<CorpusWindow> sample() {
        Integer[] order = new Integer[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> after(priority[a], slots[a].index(), priority[b], slots[b].index()) ? 1
                : after(priority[b], slots[b].index(), priority[a], slots[a].index()) ? -1 : 0);
        List<CorpusWindow> out = new ArrayList<>(size);
        for (int i : order) {
            out.add(slots[i]);
        }
        return out;
    }

    public long seen() {
        return seen;
    }

    public int capacity() {
        return capacity;
    }

    public long seed() {
        return seed;
    }

    /** An independent copy (the windows' id arrays are shared: they are never changed). */
    public WindowReservoir copy() {
        WindowReservoir c = new WindowReservoir(capacity, seed);
        System.arraycopy(priority, 0, c.priority, 0, size);
        System.arraycopy(slots, 0, c.slots, 0, size);
        c.size = size;
        c.seen = seen;
        return c;
    }

    /** Bytes {@link #writeTo} writes for a sample of {@code size} windows of {@code windowTokens}. */
    static long serializedBytes(int size, int windowTokens) {
        return 4 + 8 + 8 + 4 + (long) size * (8 + 4L * windowTokens);
    }

    /** Bytes {@link #writeTo} writes for this sample. */
    public long serializedBytes(int windowTokens) {
        return serializedBytes(size, windowTokens);
    }

    /** Writes capacity, seed, windows seen and the sampled windows (priorities are recomputed on reading). */
    public void writeTo(StateOutput out, int windowTokens) throws IOException {
        out.writeInt(capacity);
        out.writeLong(seed);
        out.writeLong(seen);
        out.writeInt(size);
        for (int i = 0; i < size; i++) {
            int[] ids = slots[i].ids();
            if (ids.length != windowTokens) {
                throw new IllegalStateException("sampled window " + slots[i].index() + " has " + ids.length
                        + " tokens, not " + windowTokens);
            }
            out.writeLong(slots[i].index());
            out.writeInts(ids, 0, ids.length);
        }
    }

    /** Reads what {@link #writeTo} wrote; a count out of range is an {@link IOException}. */
    public static WindowReservoir readFrom(StateInput in, int windowTokens) throws IOException {
        int capacity = in.readInt();
        long seed = in.readLong();
        long seen = in.readLong();
        int size = in.readInt();
        if (capacity < 0 || capacity > 1_000_000 || size < 0 || size > capacity || seen < size) {
            throw new IOException("random sample of " + size + " of " + capacity + " windows, " + seen + " seen");
        }
        WindowReservoir r = new WindowReservoir(capacity, seed);
        for (int i = 0; i < size; i++) {
            long index = in.readLong();
            int[] ids = new int[windowTokens];
            in.readInts(ids, 0, windowTokens);
            r.keep(new CorpusWindow(index, ids));
        }
        r.seen = seen;
        return r;
    }
}
