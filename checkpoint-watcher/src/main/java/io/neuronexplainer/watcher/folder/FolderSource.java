package io.neuronexplainer.watcher.folder;

import io.neuronexplainer.producer.model.Gpt2Tokenizer;
import io.neuronexplainer.watcher.CheckpointCandidate;
import io.neuronexplainer.watcher.CheckpointRejectedException;
import io.neuronexplainer.watcher.CheckpointSource;
import io.neuronexplainer.watcher.CheckpointStep;
import io.neuronexplainer.watcher.CheckpointValidator;
import io.neuronexplainer.watcher.LocalCheckpoint;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checkpoints a training run writes into a folder: each immediate subfolder holding
 * {@code config.json} and {@code model.safetensors} (or an index and all its shards), listed only
 * once complete, that is once its ready file exists or, without one, once its files have stayed
 * unchanged for the settle time.
 */
public final class FolderSource implements CheckpointSource {
    private static final Logger log = LoggerFactory.getLogger(FolderSource.class);
    /** training_state.json is a few fields; anything larger is not one. */
    private static final long MAX_TRAINING_STATE_BYTES = 1 << 20;
    private static final String SETTLING = "waiting for its files to stay unchanged for ";

    /** What the last poll saw of a subfolder: its fingerprint, since when, and why it was held back (null: listed). */
    private record Seen(String fingerprint, Instant since, String heldBack) {}

    private final Path root;
    private final Pattern revisionPattern;
    private final Duration settle;
    private final String readyFile;
    private final Path tokenizerOverride;
    private final Clock clock;
    private final Map<String, Seen> seen = new HashMap<>();

    /**
     * @param root              the folder the training run writes checkpoint subfolders into
     * @param revisionPattern   its first group is the step in a subfolder's name
     * @param settle            how long a subfolder's files must stay unchanged before it is listed (no ready file)
     * @param readyFile         a file name the trainer writes last into a finished checkpoint; null to settle instead
     * @param tokenizerOverride the tokenizer.json to use when neither the checkpoint nor root has one; may be null
     * @param clock             the time settling is measured by
     */
    public FolderSource(Path root, Pattern revisionPattern, Duration settle, String readyFile, Path tokenizerOverride,
                        Clock clock) {
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
        this.revisionPattern = Objects.requireNonNull(revisionPattern, "revisionPattern");
        this.settle = Objects.requireNonNull(settle, "settle");
        if (settle.isNegative()) {
            throw new IllegalArgumentException("settle time must not be negative: " + settle);
        }
        this.readyFile = readyFile == null || readyFile.isBlank() ? null : readyFile;
        this.tokenizerOverride = tokenizerOverride;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public synchronized List<CheckpointCandidate> list() throws IOException {
        checkRoot();
        Instant now = clock.instant();
        List<CheckpointCandidate> complete = new ArrayList<>();
        Set<String> present = new HashSet<>();
        for (Path folder : subfolders()) {
            String name = folder.getFileName().toString();
            FolderSnapshot snapshot;
            try {
                snapshot = FolderSnapshot.take(folder);
            } catch (NoSuchFileException e) {
                continue; // Removed while being read.
            }
            present.add(name);
            Seen before = seen.get(name);
            Instant since = before != null && before.fingerprint().equals(snapshot.fingerprint()) ? before.since() : now;
            String heldBack = heldBack(snapshot, Duration.between(since, now));
            if (heldBack != null && (before == null || !heldBack.equals(before.heldBack()))) {
                // Settling is the normal wait for every new folder; the other reasons explain a stuck checkpoint.
                if (heldBack.startsWith(SETTLING)) {
                    log.debug("{}: not listed yet: {}", folder, heldBack);
                } else {
                    log.info("{}: not listed yet: {}", folder, heldBack);
                }
            }
            seen.put(name, new Seen(snapshot.fingerprint(), since, heldBack));
            if (heldBack == null) {
                complete.add(new CheckpointCandidate(name, step(name, snapshot), snapshot.fingerprint()));
            }
        }
        seen.keySet().retainAll(present);
        return complete;
    }

    @Override
    public LocalCheckpoint fetch(CheckpointCandidate candidate) throws IOException, CheckpointRejectedException {
        String name = candidate.name();
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals(".") || name.equals("..")) {
            throw new CheckpointRejectedException("checkpoint name " + name + " is not a subfolder name of " + root);
        }
        Path folder = root.resolve(name);
        FolderSnapshot snapshot;
        try {
            snapshot = Files.isDirectory(folder) ? FolderSnapshot.take(folder) : null;
        } catch (NoSuchFileException e) {
            snapshot = null;
        }
        // Gone, changed or incomplete since listing is the training run still at work, not a fault of
        // the checkpoint: an IOException, so the watcher looks again at its next poll.
        if (snapshot == null) {
            throw new IOException("checkpoint folder " + folder + " is gone since it was listed");
        }
        if (!snapshot.fingerprint().equals(candidate.revision())) {
            throw new IOException("checkpoint folder " + folder + " changed since it was listed (revision "
                    + candidate.revision() + ", now " + snapshot.fingerprint() + ")");
        }
        if (snapshot.incompleteReason() != null) {
            throw new IOException("checkpoint folder " + folder + " is incomplete: " + snapshot.incompleteReason());
        }
        Path tokenizer = tokenizer(folder);
        CheckpointValidator.check(folder, tokenizer);
        return new LocalCheckpoint(candidate, folder, tokenizer, false);
    }

    @Override
    public String describe() {
        return "folder " + root;
    }

    /** Why a subfolder is not listed this poll, or null when it is. */
    private String heldBack(FolderSnapshot snapshot, Duration unchanged) {
        if (snapshot.incompleteReason() != null) {
            return snapshot.incompleteReason();
        }
        if (readyFile != null) {
            return snapshot.contains(readyFile) ? null : "no ready file " + readyFile + " yet";
        }
        if (unchanged.compareTo(settle) < 0) {
            return SETTLING + text(settle) + " (settle time)";
        }
        return null;
    }

    private void checkRoot() throws IOException {
        if (!Files.exists(root)) {
            throw new IOException("checkpoint folder " + root + " does not exist");
        }
        if (!Files.isDirectory(root)) {
            throw new IOException("checkpoint folder " + root + " is a file, not a folder");
        }
    }

    /**
     * Candidate subfolders by name: hidden ones, ones named as temporary ({@code tmp-checkpoint-500},
     * renamed when done) and symbolic links (a {@code latest} link would repeat a checkpoint) are skipped.
     */
    private List<Path> subfolders() throws IOException {
        List<Path> folders = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.startsWith(".") || name.startsWith("tmp-") || name.startsWith("tmp_")
                        || FolderSnapshot.isTemporary(name) || !Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                folders.add(entry);
            }
        }
        folders.sort(null);
        return folders;
    }

    private Long step(String name, FolderSnapshot snapshot) {
        Long step = CheckpointStep.fromName(name, revisionPattern);
        FolderSnapshot.FileState state = snapshot.files().get(CheckpointStep.TRAINING_STATE);
        if (step != null || state == null || state.size() > MAX_TRAINING_STATE_BYTES) {
            return step;
        }
        try {
            return CheckpointStep.fromTrainingState(Files.readString(snapshot.folder().resolve(CheckpointStep.TRAINING_STATE)));
        } catch (IOException e) {
            return null;
        }
    }

    /** The checkpoint's own tokenizer.json, else the run folder's (shared by its checkpoints), else the override. */
    private Path tokenizer(Path folder) throws CheckpointRejectedException {
        for (Path candidate : new Path[] {folder.resolve(Gpt2Tokenizer.FILE_NAME), root.resolve(Gpt2Tokenizer.FILE_NAME)}) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        if (tokenizerOverride != null) {
            return tokenizerOverride;
        }
        throw new CheckpointRejectedException("no " + Gpt2Tokenizer.FILE_NAME + " in " + folder + " or " + root
                + ", and no --tokenizer given");
    }

    private static String text(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
