package io.neuronexplainer.producer.sampling;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The token ids of the windows some neuron keeps among its top-K, shared by all neurons (many
 * neurons keep the same windows). Every window is added as it passes; windows no neuron keeps
 * are pruned whenever the store has doubled since the last prune, so it holds at most about
 * twice the kept set: bounded by neurons x K, not by the corpus.
 */
public final class TopWindowTokens {
    private static final int MIN_PRUNE_SIZE = 4096;

    private final Map<Long, int[]> ids = new HashMap<>();
    private int pruneAt = MIN_PRUNE_SIZE;

    public void add(CorpusWindow window) {
        ids.put(window.index(), window.ids());
    }

    /** Drops the windows none of {@code layers} keeps, if the store has grown enough to be worth it. */
    public void pruneIfLarge(List<LayerTopK> layers) {
        if (ids.size() >= pruneAt) {
            prune(layers);
        }
    }

    public void prune(List<LayerTopK> layers) {
        long count = 0;
        for (LayerTopK layer : layers) {
            count += (long) layer.neurons() * layer.k();
        }
        long[] kept = new long[(int) Math.min(count, Integer.MAX_VALUE - 16)];
        int[] n = {0};
        for (LayerTopK layer : layers) {
            layer.forEachKeptWindow(index -> kept[n[0]++] = index);
        }
        long[] live = Arrays.copyOf(kept, n[0]);
        Arrays.sort(live);
        ids.keySet().removeIf(index -> Arrays.binarySearch(live, index) < 0);
        pruneAt = Math.max(MIN_PRUNE_SIZE, 2 * ids.size());
    }

    /** A copy of the store; the id arrays are shared, as nothing ever changes them. */
    public TopWindowTokens copy() {
        TopWindowTokens c = new TopWindowTokens();
        c.ids.putAll(ids);
        c.pruneAt = pruneAt;
        return c;
    }

    /** Adds {@code other}'s windows (another part of the corpus); prune against the merged tops afterwards. */
    public void merge(TopWindowTokens other) {
        ids.putAll(other.ids);
        pruneAt = Math.max(MIN_PRUNE_SIZE, 2 * ids.size());
    }

    /** Bytes {@link #writeTo} writes for windows of {@code windowTokens}. */
    public long serializedBytes(int windowTokens) {
        return 4 + (long) ids.size() * (8 + 4L * windowTokens);
    }

    /** Writes the windows in index order (so equal stores give equal bytes). */
    public void writeTo(StateOutput out, int windowTokens) throws IOException {
        long[] indices = ids.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        out.writeInt(indices.length);
        for (long index : indices) {
            int[] window = ids.get(index);
            if (window.length != windowTokens) {
                throw new IllegalStateException("window " + index + " has " + window.length + " tokens, not " + windowTokens);
            }
            out.writeLong(index);
            out.writeInts(window, 0, windowTokens);
        }
    }

    /** Reads what {@link #writeTo} wrote; at most {@code maxWindows} windows, more is an {@link IOException}. */
    public static TopWindowTokens readFrom(StateInput in, int windowTokens, long maxWindows) throws IOException {
        int count = in.readInt();
        if (count < 0 || count > maxWindows) {
            throw new IOException(count + " kept windows' tokens, at most " + maxWindows + " possible");
        }
        TopWindowTokens t = new TopWindowTokens();
        for (int i = 0; i < count; i++) {
            long index = in.readLong();
            int[] window = new int[windowTokens];
            in.readInts(window, 0, windowTokens);
            t.ids.put(index, window);
        }
        t.pruneAt = Math.max(MIN_PRUNE_SIZE, 2 * count);
        return t;
    }

    /** The ids of a window, or null if it was pruned. */
    public int[] get(long index) {
        return ids.get(index);
    }

    public int size() {
        return ids.size();
    }

    /** The ids of every kept window, in no particular order. */
    public java.util.Collection<int[]> windows() {
        return java.util.Collections.unmodifiableCollection(ids.values());
    }
}
