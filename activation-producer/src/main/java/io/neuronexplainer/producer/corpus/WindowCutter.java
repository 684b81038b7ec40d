package io.neuronexplainer.producer.corpus;

import io.neuronexplainer.producer.model.TextTokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a corpus into windows of exactly {@code windowTokens} tokens: each document is tokenized
 * on its own and cut into consecutive, non-overlapping windows from its first token; a tail
 * shorter than a window is skipped. Why: every window then has the same length (one batch
 * shape, and a neuron's max over 64 tokens stays comparable between windows; padding would need
 * attention masks), and no window mixes two unrelated documents, which would confuse the
 * explainer reading it. Documents shorter than a window give none.
 *
 * <p>A cutter can read a range of window indices only (a shard, or a pass resumed from a
 * snapshot): windows before it are still cut from the tokenized documents (no model runs on
 * them) to keep the global numbering, then skipped. Documents read and tokens skipped count
 * from the moment the next window is in the range, so the ranges of one corpus add up to one
 * whole pass's counts.
 */
public final class WindowCutter implements AutoCloseable {
    private final DocumentReader documents;
    private final TextTokenizer tokenizer;
    private final int windowTokens;
    private final long from;
    private final long maxWindows;
    private int[] ids = new int[0];
    private int position;
    private long nextIndex;
    private long documentsRead;
    private long tokensSkipped;

    /** @param maxWindows stop after this many windows; 0 or less for the whole corpus */
    public WindowCutter(DocumentReader documents, TextTokenizer tokenizer, int windowTokens, long maxWindows) {
        this(documents, tokenizer, windowTokens, 0, maxWindows <= 0 ? Long.MAX_VALUE : maxWindows);
    }

    /**
     * Cuts the windows numbered {@code fromWindow} (inclusive) to {@code toWindow} (exclusive) in
     * corpus order; {@code toWindow} {@link Long#MAX_VALUE} for the corpus's end. An empty range
     * reads nothing.
     */
    public WindowCutter(DocumentReader documents, TextTokenizer tokenizer, int windowTokens, long fromWindow,
                        long toWindow) {
        if (fromWindow < 0 || toWindow < fromWindow) {
            throw new IllegalArgumentException("bad window range [" + fromWindow + ", " + toWindow + ")");
        }
        if (windowTokens <= 0) {
            throw new IllegalArgumentException("window length must be positive, not " + windowTokens);
        }
        this.documents = documents;
        this.tokenizer = tokenizer;
        this.windowTokens = windowTokens;
        this.from = fromWindow;
        this.maxWindows = toWindow;
    }

    /**
     * How many windows of {@code windowTokens} the documents give, without a model (tokenizer
     * only): for splitting a corpus into shards when no window budget is set. Reads to the end
     * and does not close {@code documents}.
     */
    public static long countWindows(DocumentReader documents, TextTokenizer tokenizer, int windowTokens)
            throws IOException {
        long windows = 0;
        Document d;
        while ((d = documents.next()) != null) {
            windows += tokenizer.encode(d.text()).length / windowTokens;
        }
        return windows;
    }

    /** The next window, or null when the corpus or the window budget is used up. */
    public CorpusWindow next() throws IOException {
        while (true) {
            // Checked on every step: skipping can reach the end of an empty range [from, from).
            if (nextIndex >= maxWindows) {
                return null;
            }
            int available = ids.length - position;
            if (available >= windowTokens) {
                if (nextIndex >= from) {
                    break;
                }
                // Before the range: skip whole windows without copying them.
                long skip = Math.min(available / windowTokens, from - nextIndex);
                position += (int) skip * windowTokens;
                nextIndex += skip;
                continue;
            }
            boolean counting = nextIndex >= from;
            if (counting) {
                tokensSkipped += available;
            }
            Document d = documents.next();
            if (d == null) {
                ids = new int[0];
                position = 0;
                return null;
            }
            if (counting) {
                documentsRead++;
            }
            ids = tokenizer.encode(d.text());
            position = 0;
        }
        int[] window = java.util.Arrays.copyOfRange(ids, position, position + windowTokens);
        position += windowTokens;
        return new CorpusWindow(nextIndex++, window);
    }

    /** Up to {@code size} next windows; empty at the end. */
    public List<CorpusWindow> nextBatch(int size) throws IOException {
        List<CorpusWindow> batch = new ArrayList<>(size);
        CorpusWindow w;
        while (batch.size() < size && (w = next()) != null) {
            batch.add(w);
        }
        return batch;
    }

    /** Windows cut in the range so far. */
    public long windowsCut() {
        return Math.max(0, nextIndex - from);
    }

    /** The index of the next window this cutter returns (global, in corpus order). */
    public long nextWindow() {
        return Math.max(nextIndex, from);
    }

    /** The first window of the range. */
    public long fromWindow() {
        return from;
    }

    public long documentsRead() {
        return documentsRead;
    }

    /** Tokens of finished documents that fell in a tail shorter than a window. */
    public long tokensSkipped() {
        return tokensSkipped;
    }

    /** Progress through the corpus or the window budget, whichever is further; NaN if unknown. */
    public double fractionDone() {
        double byWindows = maxWindows == Long.MAX_VALUE ? Double.NaN
                : maxWindows == from ? 1.0 : (double) windowsCut() / (maxWindows - from);
        double byCorpus = documents.fractionRead();
        if (Double.isNaN(byWindows)) {
            return byCorpus;
        }
        return Double.isNaN(byCorpus) ? byWindows : Math.max(byWindows, byCorpus);
    }

    @Override
    public void close() throws IOException {
        documents.close();
    }
}
