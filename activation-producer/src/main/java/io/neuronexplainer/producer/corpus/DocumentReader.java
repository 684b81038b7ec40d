package io.neuronexplainer.producer.corpus;

import java.io.IOException;

/**
 * Reads a corpus one document at a time, so a corpus of any size streams through in bounded
 * memory. (Not a java.util.stream: {@code flatMap(...).iterator()} buffers whole inner streams.)
 */
public interface DocumentReader extends AutoCloseable {
    /** The next document, or null at the end of the corpus. */
    Document next() throws IOException;

    /** How much of the corpus has been read, 0 to 1, or NaN when unknown (for progress and ETA). */
    double fractionRead();

    @Override
    void close() throws IOException;
}
