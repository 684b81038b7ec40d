package io.neuronexplainer.watcher.folder;

import io.neuronexplainer.producer.model.Gpt2Checkpoint;
import io.neuronexplainer.producer.model.SafetensorsIndex;
import io.neuronexplainer.schemas.Identities;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A checkpoint folder's files at one moment (relative names, sizes, modification times), with
 * their fingerprint and, when the folder is not yet a complete checkpoint, the reason why.
 */
public final class FolderSnapshot {
    /** Suffixes writers give files they have not finished (and rename when done). */
    private static final List<String> TEMPORARY_SUFFIXES = List.of(".tmp", ".temp", ".part", ".partial", ".incomplete", ".lock");
    private static final String CONFIG = "config.json";

    /** One file's size and modification time, in milliseconds. */
    public record FileState(long size, long modifiedMillis) {}

    private final Path folder;
    private final Map<String, FileState> files;
    private final String fingerprint;
    private final String incompleteReason;

    private FolderSnapshot(Path folder, Map<String, FileState> files, String incompleteReason) {
        this.folder = folder;
        this.files = Collections.unmodifiableMap(files);
        List<String> parts = new ArrayList<>();
        files.forEach((name, state) -> {
            parts.add(name);
            parts.add(Long.toString(state.size()));
            parts.add(Long.toString(state.modifiedMillis()));
        });
        this.fingerprint = Identities.hash(parts.toArray(String[]::new));
        this.incompleteReason = incompleteReason;
    }

    /**
     * Reads {@code folder}'s files, nested ones included, and judges whether they form a complete
     * checkpoint. A file that vanishes while it is read is left out (the next snapshot differs anyway).
     *
     * @throws NoSuchFileException when the folder itself is gone
     */
    public static FolderSnapshot take(Path folder) throws IOException {
        Map<String, FileState> files = new TreeMap<>();
        collect(folder, "", files);
        return new FolderSnapshot(folder, files, judge(folder, files));
    }

    public Path folder() {
        return folder;
    }

    /** Relative file name ('/'-separated) to size and modification time, sorted by name. */
    public Map<String, FileState> files() {
        return files;
    }

    /** Whether a file of this relative name was present. */
    public boolean contains(String relativeName) {
        return files.containsKey(relativeName.replace('\\', '/'));
    }

    /** A hex hash of every file's name, size and modification time: the folder's revision. */
    public String fingerprint() {
        return fingerprint;
    }

    /** Why the folder is not a complete checkpoint (one line), or null when it is. */
    public String incompleteReason() {
        return incompleteReason;
    }

    /** Whether a file or folder name marks something still being written. */
    static boolean isTemporary(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return TEMPORARY_SUFFIXES.stream().anyMatch(lower::endsWith);
    }

    private static void collect(Path dir, String prefix, Map<String, FileState> files) throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                String name = prefix + entry.getFileName();
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(entry, BasicFileAttributes.class);
                } catch (NoSuchFileException e) {
                    continue;
                }
                if (attributes.isDirectory()) {
                    try {
                        collect(entry, name + "/", files);
                    } catch (NoSuchFileException e) {
                        // Removed while listed: nothing of it to fingerprint.
                    }
                } else {
                    files.put(name, new FileState(attributes.size(), attributes.lastModifiedTime().toMillis()));
                }
            }
        }
    }

    private static String judge(Path folder, Map<String, FileState> files) {
        for (String name : files.keySet()) {
            if (isTemporary(name)) {
                return "temporary file " + name + " present (still being written)";
            }
        }
        if (!files.containsKey(CONFIG)) {
            return "no " + CONFIG + " yet";
        }
        if (files.containsKey(Gpt2Checkpoint.WEIGHTS_FILE)) {
            return null;
        }
        if (!files.containsKey(SafetensorsIndex.FILE_NAME)) {
            return "no " + Gpt2Checkpoint.WEIGHTS_FILE + " or " + SafetensorsIndex.FILE_NAME + " yet";
        }
        Path indexFile = folder.resolve(SafetensorsIndex.FILE_NAME);
        SafetensorsIndex index;
        try {
            index = SafetensorsIndex.read(indexFile);
        } catch (IllegalArgumentException e) {
            // Most likely half-written; a broken index that stays so is never listed.
            String problem = e.getMessage() == null ? "unreadable" : e.getMessage();
            return SafetensorsIndex.FILE_NAME + " not usable yet: "
                    + (problem.startsWith(indexFile + ": ") ? problem.substring(indexFile.toString().length() + 2) : problem);
        }
        List<String> missing = index.shards().stream().filter(shard -> !files.containsKey(shard)).toList();
        if (!missing.isEmpty()) {
            return missing.size() + " of " + index.shards().size() + " shards not written yet (" + missing.get(0)
                    + (missing.size() > 1 ? ", ..." : "") + ")";
        }
        return null;
    }
}
