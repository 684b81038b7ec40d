package io.neuronexplainer.producer;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A folder of pass states shared by the producer processes of a run (a shared volume):
 * {@code <dir>/<runId>/shard-<i>-of-<n>.state} is the latest state of shard i, rewritten
 * atomically, so a process taking over a killed one's shard resumes from it; once every shard
 * is done, one process claims the merge ({@code merge.claim}, created atomically: the first
 * wins) and emits the merged records.
 */
public final class PassSnapshotStore {
    private static final Logger log = LoggerFactory.getLogger(PassSnapshotStore.class);
    private static final Pattern SAFE_RUN_ID = Pattern.compile("[A-Za-z0-9._-]{1,200}");
    static final String MERGE_CLAIM = "merge.claim";

    private final Path dir;

    public PassSnapshotStore(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** The run's folder. */
    public Path runDir(String runId) {
        if (!SAFE_RUN_ID.matcher(runId).matches() || runId.equals(".") || runId.equals("..")) {
            throw new IllegalArgumentException("run id '" + runId + "' cannot name a snapshot folder");
        }
        return dir.resolve(runId);
    }

    /** The file of shard {@code shard} of {@code shards}. */
    public Path file(String runId, int shard, int shards) {
        return runDir(runId).resolve("shard-" + shard + "-of-" + shards + ".state");
    }

    /** The shard's latest state, if one was saved; a corrupt file is an error of one line. */
    public Optional<PassState> latest(String runId, int shard, int shards) throws IOException {
        Path file = file(runId, shard, shards);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        long start = System.nanoTime();
        PassState state = PassState.read(file);
        log.info("read snapshot of {} at window {} ({}) in {} ms", state.range(), state.nextWindow(),
                PassState.mib(Files.size(file)), (System.nanoTime() - start) / 1_000_000);
        return Optional.of(state);
    }

    /** Writes {@code state} as its shard's latest, atomically, on this thread. */
    public void save(String runId, PassState state) throws IOException {
        ShardRange r = state.range();
        Path file = file(runId, r.shard(), r.shards());
        long start = System.nanoTime();
        long bytes = state.write(file);
        log.info("wrote snapshot of {} at window {}{}: {} in {} ms", r, state.nextWindow(), state.done() ? " (done)" : "",
                PassState.mib(bytes), (System.nanoTime() - start) / 1_000_000);
    }

    /** A background writer of the run's snapshots, to hand to {@link CorpusPass#run}; close it after the run. */
    public SnapshotWriter writer(String runId) {
        runDir(runId);
        return new SnapshotWriter(this, runId);
    }

    /** Whether every shard of the run has saved a finished state (reads the files' headers only). */
    public boolean allDone(String runId, int shards) throws IOException {
        for (int i = 0; i < shards; i++) {
            Path file = file(runId, i, shards);
            if (!Files.exists(file) || !PassState.readDone(file)) {
                return false;
            }
        }
        return true;
    }

    /** The finished states of all the run's shards, in shard order, once every shard is done; else empty. */
    public Optional<List<PassState>> finished(String runId, int shards) throws IOException {
        if (!allDone(runId, shards)) {
            return Optional.empty();
        }
        List<PassState> states = new ArrayList<>(shards);
        for (int i = 0; i < shards; i++) {
            states.add(PassState.read(file(runId, i, shards)));
        }
        return Optional.of(states);
    }

    /**
     * The run's merged state once every shard is done, else empty: the same as
     * {@link PassState#merge} of {@link #finished}, but reading one shard at a time, so at most two
     * states are in memory.
     */
    public Optional<PassState> merged(String runId, int shards) throws IOException {
        if (!allDone(runId, shards)) {
            return Optional.empty();
        }
        long start = System.nanoTime();
        PassState merged = PassState.read(file(runId, 0, shards));
        PassState.checkShard(merged, merged, 0, shards, 0);
        for (int i = 1; i < shards; i++) {
            PassState next = PassState.read(file(runId, i, shards));
            PassState.checkShard(merged, next, i, shards, merged.range().to());
            merged = merged.mergeWith(next);
        }
        log.info("merged {} shards of run {} in {} ms", shards, runId, (System.nanoTime() - start) / 1_000_000);
        return Optional.of(merged.asWhole());
    }

    /**
     * Claims the run's merge for the task of shard {@code shard}: true when this call made the claim
     * (atomic link creation, also across processes on the shared folder), or when the claim already
     * names the same shard. Why the shard and not the process: the claimer commits its shard's task
     * only after the merge and emission, so if it dies the task goes to another process, which must
     * take the merge over; the task of any other shard finds the claim taken and leaves it.
     */
    public boolean tryClaimMerge(String runId, int shard, int shards) throws IOException {
        Path claim = runDir(runId).resolve(MERGE_CLAIM);
        Files.createDirectories(claim.getParent());
        Path mine = Files.createTempFile(claim.getParent(), "merge-", ".claim");
        try {
            Files.writeString(mine, "shard " + shard + " of " + shards + "\n" + ManagementFactory.getRuntimeMXBean().getName() + " "
                    + Instant.now() + "\n", StandardCharsets.UTF_8);
            Files.createLink(claim, mine);
            return true;
        } catch (FileAlreadyExistsException e) {
            String held = Files.readString(claim, StandardCharsets.UTF_8);
            return held.startsWith("shard " + shard + " of " + shards + "\n");
        } finally {
            Files.deleteIfExists(mine);
        }
    }

    /** Removes the run's merge claim (after its records are committed), so a later run of the same id can merge. */
    public void releaseMerge(String runId) throws IOException {
        Files.deleteIfExists(runDir(runId).resolve(MERGE_CLAIM));
    }

    /** Deletes the run's folder and everything in it (after its records are committed). */
    public void delete(String runId) throws IOException {
        Path run = runDir(runId);
        if (!Files.exists(run)) {
            return;
        }
        try (Stream<Path> files = Files.walk(run)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
