package io.neuronexplainer.producer.corpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A corpus that can be read, document by document, any number of times. */
public interface CorpusSource {
    /** A short name for the run's records (e.g. {@code europarl-en} or the file's name). */
    String name();

    DocumentReader open() throws IOException;

    /**
     * The corpus at {@code path}: a folder of text files, a {@code .jsonl} file (a {@code text}
     * field per line), or any other file read as plain text; null gives the default corpus
     * (the English Europarl sample, no download).
     */
    static CorpusSource of(Path path) {
        if (path == null) {
            return new EuroparlCorpus();
        }
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("corpus " + path + ": no such file or directory");
        }
        if (Files.isDirectory(path)) {
            return new TextFolderCorpus(path);
        }
        if (!Files.isReadable(path)) {
            throw new IllegalArgumentException("corpus " + path + ": not readable");
        }
        String name = path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
            return new JsonlCorpus(path);
        }
        return new TextFileCorpus(path);
    }
}
