package io.neuronexplainer.producer.corpus;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Lines of a UTF-8 stream, with the line number and bytes read so far; invalid UTF-8 (a binary
 * file in a text folder, a Latin-1 file) is an error naming the file rather than silently
 * replaced text.
 */
final class Utf8Lines implements AutoCloseable {
    private final String source;
    private final CountingInputStream counted;
    private final BufferedReader reader;
    private long lineNumber;

    Utf8Lines(String source, InputStream in) {
        this.source = source;
        this.counted = new CountingInputStream(in);
        this.reader = new BufferedReader(new InputStreamReader(counted, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)), 1 << 16);
    }

    /** The next line without its terminator, or null at the end. */
    String next() throws IOException {
        try {
            String line = reader.readLine();
            if (line != null) {
                lineNumber++;
            }
            return line;
        } catch (CharacterCodingException e) {
            // The reader decodes ahead of the line it returns, so only a lower bound is known.
            throw new IOException(source + ": not UTF-8 text (at or after line " + (lineNumber + 1) + ")");
        }
    }

    long lineNumber() {
        return lineNumber;
    }

    long bytesRead() {
        return counted.count();
    }

    @Override
    public void close() throws IOException {
        reader.close();
    }
}
