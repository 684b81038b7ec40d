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
 */
public final class WindowCutter implements AutoCloseable {
    private final DocumentReader documents;
    private final TextTokenizer tokenizer;
    private final int windowTokens;
    private final long maxWindows;
    private int[] ids = new int[0];
    private int position;
    private long nextIndex;
    private long documentsRead;
    private long tokensSkipped;

    /** @param maxWindows stop after this many windows; 0 or less for the whole corpus */
    public WindowCutter(DocumentReader documents, TextTokenizer tokenizer, int windowTokens, long maxWindows) {
        if (windowTokens <= 0) {
            throw new IllegalArgumentException("window length must be positive, not " + windowTokens);
        }
        this.documents = documents;
        this.tokenizer = tokenizer;
        this.windowTokens = windowTokens;
        this.maxWindows = maxWindows <= 0 ? Long.MAX_VALUE : maxWindows;
    }

    /** The next window, or null when the corpus or the window budget is used up. */
    public CorpusWindow next() throws IOException {
        if (nextIndex >= maxWindows) {
            return null;
        }
        while (ids.length - position < windowTokens) {
            tokensSkipped += ids.length - position;
            Document d = documents.next();
            if (d == null) {
                ids = new int[0];
                position = 0;
                return null;
            }
            documentsRead++;
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

    public long windowsCut() {
        return nextIndex;
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
        double byWindows = maxWindows == Long.MAX_VALUE ? Double.NaN : (double) nextIndex / maxWindows;
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
