package io.neuronexplainer.producer;

import java.util.ArrayList;
import java.util.List;

/**
 * The part of a corpus one process passes over: shard {@code shard} of {@code shards}, the
 * windows numbered {@code from} (inclusive) to {@code to} (exclusive) in corpus order;
 * {@code to} is {@link Long#MAX_VALUE} for "to the corpus's end".
 */
public record ShardRange(int shard, int shards, long from, long to) {

    public ShardRange {
        if (shards < 1 || shard < 0 || shard >= shards) {
            throw new IllegalArgumentException("shard " + shard + " of " + shards + ": needs 0 <= shard < shards");
        }
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("shard " + shard + " of " + shards + ": bad window range [" + from
                    + ", " + to + ")");
        }
    }

    /** The whole corpus as one shard. */
    public static ShardRange all() {
        return new ShardRange(0, 1, 0, Long.MAX_VALUE);
    }

    /**
     * Cuts {@code totalWindows} windows into {@code shards} contiguous ranges whose boundaries are
     * multiples of {@code batch}, as even as whole batches allow (shards can be empty when there
     * are fewer batches than shards). Why batch multiples: each shard's batches are then exactly
     * the batches one pass would run, so even a model whose rounding depends on the batch gives
     * the same activations.
     */
    public static List<ShardRange> split(long totalWindows, int shards, int batch) {
        if (totalWindows < 0 || shards < 1 || batch < 1) {
            throw new IllegalArgumentException("cannot split " + totalWindows + " windows into " + shards
                    + " shards of batches of " + batch);
        }
        long batches = (totalWindows + batch - 1) / batch;
        List<ShardRange> out = new ArrayList<>(shards);
        for (int i = 0; i < shards; i++) {
            long from = Math.min(totalWindows, batches * i / shards * batch);
            long to = i == shards - 1 ? totalWindows : Math.min(totalWindows, batches * (i + 1) / shards * batch);
            out.add(new ShardRange(i, shards, from, to));
        }
        return out;
    }

    /** Whether this is the last shard (the one that reads to the corpus's end). */
    public boolean last() {
        return shard == shards - 1;
    }

    /** Whether the range runs to the corpus's end rather than to a counted window. */
    public boolean open() {
        return to == Long.MAX_VALUE;
    }

    public long windows() {
        return to - from;
    }

    @Override
    public String toString() {
        return "shard " + shard + " of " + shards + " [" + from + ", " + (open() ? "end" : Long.toString(to)) + ")";
    }
}
