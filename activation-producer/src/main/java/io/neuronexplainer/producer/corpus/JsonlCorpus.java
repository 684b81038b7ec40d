package io.neuronexplainer.producer.corpus;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A JSON Lines file: one JSON object per line, its {@code text} field one document (other
 * fields ignored, blank lines skipped). A line that is not such an object stops the run with an
 * error naming the file and line: silently skipping it would change the corpus unseen.
 */
public final class JsonlCorpus implements CorpusSource {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    public JsonlCorpus(Path file) {
        this.file = file;
    }

    @Override
    public String name() {
        return file.getFileName().toString();
    }

    @Override
    public DocumentReader open() throws IOException {
        long size = Files.size(file);
        Utf8Lines lines = new Utf8Lines(file.toString(), Files.newInputStream(file));
        return new DocumentReader() {
            @Override
            public Document next() throws IOException {
                String line;
                while ((line = lines.next()) != null) {
                    if (!line.isBlank()) {
                        return new Document(file + ":" + lines.lineNumber(), text(line, lines.lineNumber()));
                    }
                }
                return null;
            }

            @Override
            public double fractionRead() {
                return size <= 0 ? 1.0 : Math.min(1.0, (double) lines.bytesRead() / size);
            }

            @Override
            public void close() throws IOException {
                lines.close();
            }
        };
    }

    private String text(String line, long number) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ":" + number + ": not valid JSON ("
                    + e.getOriginalMessage() + ")");
        }
        JsonNode text = node == null ? null : node.get("text");
        if (text == null || !text.isTextual()) {
            throw new IllegalArgumentException(file + ":" + number + ": no string \"text\" field");
        }
        return text.asText();
    }
}
