package io.neuronexplainer.producer.corpus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A folder of UTF-8 text files: every regular, non-hidden file under it (recursively), in path
 * order so runs are reproducible, each read like a {@link TextFileCorpus}.
 */
public final class TextFolderCorpus implements CorpusSource {
    private final Path folder;

    public TextFolderCorpus(Path folder) {
        this.folder = folder;
    }

    @Override
    public String name() {
        return folder.toAbsolutePath().normalize().getFileName() + "/";
    }

    @Override
    public DocumentReader open() throws IOException {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(folder)) {
            // Only the paths are listed up front, never the contents.
            files = walk.filter(Files::isRegularFile)
                    .filter(p -> !hidden(folder.relativize(p)))
                    .sorted()
                    .collect(Collectors.toList());
        }
        long total = 0;
        for (Path f : files) {
            total += Files.size(f);
        }
        return new FolderReader(files, total);
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static final class FolderReader implements DocumentReader {
        private final List<Path> files;
        private final long totalBytes;
        private int nextFile;
        private long bytesDone;
        private TextFileCorpus.ChunkReader current;

        FolderReader(List<Path> files, long totalBytes) {
            this.files = files;
            this.totalBytes = totalBytes;
        }

        @Override
        public Document next() throws IOException {
            while (true) {
                if (current != null) {
                    Document d = current.next();
                    if (d != null) {
                        return d;
                    }
                    bytesDone += current.bytesRead();
                    current.close();
                    current = null;
                }
                if (nextFile >= files.size()) {
                    return null;
                }
                Path f = files.get(nextFile++);
                current = new TextFileCorpus.ChunkReader(f, Files.size(f));
            }
        }

        @Override
        public double fractionRead() {
            long read = bytesDone + (current == null ? 0 : current.bytesRead());
            return totalBytes <= 0 ? 1.0 : Math.min(1.0, (double) read / totalBytes);
        }

        @Override
        public void close() throws IOException {
            if (current != null) {
                current.close();
            }
        }
    }
}
