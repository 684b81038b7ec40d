package io.neuronexplainer.watcher.folder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.watcher.CheckpointCandidate;
import io.neuronexplainer.watcher.CheckpointRejectedException;
import io.neuronexplainer.watcher.CheckpointStep;
import io.neuronexplainer.watcher.LocalCheckpoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training run's folder, with the demo model's real checkpoint files copied in: what is listed
 * when (settling, ready file, half-written checkpoints), the steps, and what fetch accepts.
 */
class FolderSourceTest {
    private static final Path DEMO = Path.of(System.getProperty("neuron.project.root", "..")).toAbsolutePath()
            .normalize().resolve("models/demo-gpt2");
    private static final Pattern PATTERN = Pattern.compile(CheckpointStep.DEFAULT_PATTERN);
    private static final Duration SETTLE = Duration.ofSeconds(30);

    @TempDir
    Path run;

    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

    @Test
    void checkpointIsListedOnlyOnceItsFilesHaveSettled() throws IOException {
        FolderSource source = settling();
        assertEquals(List.of(), source.list());
        copyCheckpoint("step-000300", "step-000300");
        assertEquals(List.of(), source.list(), "first seen: not settled");
        clock.advance(Duration.ofSeconds(29));
        assertEquals(List.of(), source.list(), "29s of 30s unchanged");
        clock.advance(Duration.ofSeconds(1));
        List<CheckpointCandidate> listed = source.list();
        assertEquals(1, listed.size());
        CheckpointCandidate candidate = listed.get(0);
        assertEquals("step-000300", candidate.name());
        assertEquals(300L, candidate.step());
        assertTrue(candidate.revision().matches("[0-9a-f]{32}"), candidate.revision());
        clock.advance(Duration.ofMinutes(5));
        assertEquals(listed, source.list(), "stays listed, same revision");
        assertEquals(List.of(), settling().list(), "a new source settles afresh");
    }

    @Test
    void fileStillGrowingBetweenPollsIsNotListed() throws IOException {
        FolderSource source = settling();
        Path folder = copyCheckpoint("step-000300", "step-000300");
        Path weights = folder.resolve("model.safetensors");
        source.list();
        for (int poll = 0; poll < 3; poll++) {
            clock.advance(SETTLE.plusSeconds(1));
            Files.write(weights, new byte[4096], StandardOpenOption.APPEND);
            assertEquals(List.of(), source.list(), "grew since the last poll " + poll);
        }
        // Same size, newer modification time: rewritten in place.
        clock.advance(SETTLE.plusSeconds(1));
        Files.setLastModifiedTime(weights, FileTime.from(Instant.now().plusSeconds(60)));
        assertEquals(List.of(), source.list(), "rewritten since the last poll");
        clock.advance(SETTLE);
        assertEquals(1, source.list().size(), "unchanged for the settle time");
    }

    @Test
    void halfWrittenCheckpointsAreNeverListed() throws IOException {
        FolderSource source = settling();
        Path noWeights = copyCheckpoint("step-000300", "step-000300");
        Files.delete(noWeights.resolve("model.safetensors"));
        Path noConfig = copyCheckpoint("step-001500", "step-001500");
        Files.delete(noConfig.resolve("config.json"));
        Path temporary = copyCheckpoint("final", "step-002000");
        Files.write(temporary.resolve("optimizer.pt.tmp"), new byte[10]);
        Path sharded = Files.createDirectories(run.resolve("step-003000"));
        Files.copy(DEMO.resolve("final/config.json"), sharded.resolve("config.json"));
        Files.writeString(sharded.resolve("model.safetensors.index.json"), "{\"metadata\": {\"total_size\": 20}, \"weight_map\": {"
                + "\"transformer.wte.weight\": \"model-00001-of-00002.safetensors\","
                + " \"transformer.ln_f.bias\": \"model-00002-of-00002.safetensors\"}}");
        Files.write(sharded.resolve("model-00001-of-00002.safetensors"), new byte[10]);
        Path halfIndex = Files.createDirectories(run.resolve("step-004000"));
        Files.copy(DEMO.resolve("final/config.json"), halfIndex.resolve("config.json"));
        Files.writeString(halfIndex.resolve("model.safetensors.index.json"), "{\"metadata\": {\"total_size\": 20}, \"weight_");
        copyCheckpoint("final", ".hidden-step-5000");
        copyCheckpoint("final", "tmp-checkpoint-6000");
        for (int poll = 0; poll < 3; poll++) {
            assertEquals(List.of(), source.list());
            clock.advance(Duration.ofHours(1));
        }
        // The missing shard arrives: the set is complete once it has settled.
        Files.write(sharded.resolve("model-00002-of-00002.safetensors"), new byte[10]);
        assertEquals(List.of(), source.list());
        clock.advance(SETTLE);
        assertEquals(List.of("step-003000"), names(source.list()));
        // The temporary file is renamed away: that checkpoint too, after settling.
        Files.move(temporary.resolve("optimizer.pt.tmp"), temporary.resolve("optimizer.pt"));
        source.list();
        clock.advance(SETTLE);
        assertEquals(List.of("step-002000", "step-003000"), names(source.list()));
    }

    @Test
    void withReadyFileListedAsSoonAsTheMarkerAppearsAndNotBefore() throws IOException {
        FolderSource source = new FolderSource(run, PATTERN, Duration.ofHours(1), "DONE", null, clock);
        Path folder = copyCheckpoint("step-001500", "step-001500");
        assertEquals(List.of(), source.list());
        clock.advance(Duration.ofHours(2));
        assertEquals(List.of(), source.list(), "settled, but no marker");
        Files.writeString(folder.resolve("DONE"), "");
        List<CheckpointCandidate> listed = source.list();
        assertEquals(List.of("step-001500"), names(listed), "at once: no settling");
        assertEquals(1500L, listed.get(0).step());
        // A marker over a half-written folder does not make it complete.
        Path noWeights = copyCheckpoint("final", "step-001600");
        Files.delete(noWeights.resolve("model.safetensors"));
        Files.writeString(noWeights.resolve("DONE"), "");
        assertEquals(List.of("step-001500"), names(source.list()));
    }

    @Test
    void stepsComeFromTheNameElseFromTrainingState() throws IOException {
        copyCheckpoint("step-000300", "step-000300");
        copyCheckpoint("final", "final");
        copyCheckpoint("step-001500", "step1000-tokens4B");
        Path nameless = copyCheckpoint("step-001500", "best");
        Files.delete(nameless.resolve("training_state.json"));
        FolderSource source = new FolderSource(run, PATTERN, Duration.ZERO, null, null, clock);
        List<CheckpointCandidate> listed = source.list();
        assertEquals(List.of("best", "final", "step-000300", "step1000-tokens4B"), names(listed));
        assertEquals(null, listed.get(0).step());
        assertEquals(6000L, listed.get(1).step(), "from final/training_state.json");
        assertEquals(300L, listed.get(2).step());
        assertEquals(1000L, listed.get(3).step(), "the name wins over training_state.json (1500)");
    }

    @Test
    void fetchFindsTheTokenizerInTheRunFolder() throws Exception {
        Path folder = copyCheckpoint("final", "final");
        Files.copy(DEMO.resolve("tokenizer.json"), run.resolve("tokenizer.json"));
        FolderSource source = new FolderSource(run, PATTERN, Duration.ZERO, null, null, clock);
        CheckpointCandidate candidate = only(source.list());
        LocalCheckpoint local = source.fetch(candidate);
        assertEquals(new LocalCheckpoint(candidate, folder, run.resolve("tokenizer.json"), false), local);
        assertEquals("folder " + run, source.describe());
    }

    @Test
    void checkpointsOwnTokenizerComesFirstAndTheOverrideLast() throws Exception {
        Path folder = copyCheckpoint("final", "final");
        Path override = Files.copy(DEMO.resolve("tokenizer.json"), Files.createDirectories(run.resolve(".elsewhere")).resolve("tokenizer.json"));
        FolderSource source = new FolderSource(run, PATTERN, Duration.ZERO, null, override, clock);
        assertEquals(override, source.fetch(only(source.list())).tokenizer(), "nothing else: the override");
        Files.copy(DEMO.resolve("tokenizer.json"), folder.resolve("tokenizer.json"));
        assertEquals(folder.resolve("tokenizer.json"), source.fetch(only(source.list())).tokenizer());
    }

    @Test
    void shardedCheckpointIsListedOnceEveryShardIsThereAndFetchChecksThemAll() throws Exception {
        Files.copy(DEMO.resolve("tokenizer.json"), run.resolve("tokenizer.json"));
        Path folder = copyCheckpoint("final", "final");
        ShardedCopy.split(folder.resolve("model.safetensors"), folder);
        Files.delete(folder.resolve("model.safetensors"));
        Path second = Files.move(folder.resolve(ShardedCopy.SECOND), run.resolve(".second-shard"));
        FolderSource source = new FolderSource(run, PATTERN, Duration.ZERO, null, null, clock);
        assertEquals(List.of(), source.list(), "a shard is missing");
        Files.move(second, folder.resolve(ShardedCopy.SECOND));
        CheckpointCandidate candidate = only(source.list());
        assertEquals(6000L, candidate.step());
        assertEquals(folder, source.fetch(candidate).folder());
        // A shard whose header disagrees with config.json is rejected, naming the shard.
        Path config = folder.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"n_inner\": 512", "\"n_inner\": 256"));
        CheckpointCandidate edited = only(source.list());
        assertRejected(ShardedCopy.FIRST, () -> source.fetch(edited));
        assertRejected("tensor transformer.h.0.mlp.c_fc.bias has shape [512] but config.json", () -> source.fetch(edited));
    }

    @Test
    void folderWithoutTokenizerAnywhereIsRejected() throws IOException {
        copyCheckpoint("final", "final");
        FolderSource source = new FolderSource(run, PATTERN, Duration.ZERO, null, null, clock);
        CheckpointCandidate candidate = only(source.list());
        assertRejected("no tokenizer.json in " + run.resolve("final") + " or " + run, () -> source.fetch(candidate));
    }

    @Test
    void corruptCheckpointIsRejectedByFetchInOneLine() throws IOException {
        Files.copy(DEMO.resolve("tokenizer.json"), run.resolve("tokenizer.json"));
        Path truncated = copyCheckpoint("step-000300", "step-000300");
        Path weights = truncated.resolve("model.safetensors");
        // The header's length and a third of the header: the rest never arrived.
        byte[] bytes = Files.readAllBytes(weights);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Files.write(weights, java.util.Arrays.copyOf(bytes, 8 + (int) headerLength / 3));
        Path fewerLayers = copyCheckpoint("step-001500", "step-001500");
        Path config = fewerLayers.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"n_layer\": 6", "\"n_layer\": 5"));
        FolderSource source = new FolderSource(run, PATTERN, Duration.ZERO, null, null, clock);
        List<CheckpointCandidate> listed = source.list();
        assertEquals(List.of("step-000300", "step-001500"), names(listed), "complete-looking folders are listed; fetch judges them");
        assertRejected("corrupt safetensors header", () -> source.fetch(listed.get(0)));
        assertRejected("unexpected tensor transformer.h.5", () -> source.fetch(listed.get(1)));
    }

    @Test
    void folderGoneOrChangedSinceListingIsLookedAtAgainNotRejected() throws IOException {
        Files.copy(DEMO.resolve("tokenizer.json"), run.resolve("tokenizer.json"));
        Path changed = copyCheckpoint("step-000300", "step-000300");
        Path gone = copyCheckpoint("step-001500", "step-001500");
        FolderSource source = new FolderSource(run, PATTERN, Duration.ZERO, null, null, clock);
        List<CheckpointCandidate> listed = source.list();
        Files.writeString(changed.resolve("extra.json"), "{}");
        deleteTree(gone);
        assertTransient("changed since it was listed", () -> source.fetch(listed.get(0)));
        assertTransient("is gone since it was listed", () -> source.fetch(listed.get(1)));
        assertNotEquals(listed.get(0).revision(), only(source.list()).revision());
        assertRejected("is not a subfolder name", () -> source.fetch(new CheckpointCandidate("../x", null, "0")));
    }

    @Test
    void missingRunFolderIsAOneLineIOException() {
        FolderSource source = new FolderSource(run.resolve("no-such-run"), PATTERN, SETTLE, null, null, clock);
        IOException e = assertThrows(IOException.class, source::list);
        assertEquals("checkpoint folder " + run.resolve("no-such-run") + " does not exist", e.getMessage());
    }

    private FolderSource settling() {
        return new FolderSource(run, PATTERN, SETTLE, null, null, clock);
    }

    /** Copies a demo checkpoint's files into the run folder under {@code name}. */
    private Path copyCheckpoint(String demoCheckpoint, String name) throws IOException {
        Path target = Files.createDirectories(run.resolve(name));
        try (var files = Files.list(DEMO.resolve(demoCheckpoint))) {
            for (Path file : files.toList()) {
                Files.copy(file, target.resolve(file.getFileName()));
            }
        }
        return target;
    }

    private static List<String> names(List<CheckpointCandidate> candidates) {
        return candidates.stream().map(CheckpointCandidate::name).toList();
    }

    private static CheckpointCandidate only(List<CheckpointCandidate> candidates) {
        assertEquals(1, candidates.size(), () -> "one candidate: " + candidates);
        return candidates.get(0);
    }

    private static void assertTransient(String reason, Executable fetch) {
        IOException e = assertThrows(IOException.class, fetch);
        assertTrue(e.getMessage().contains(reason), () -> "says '" + reason + "': " + e.getMessage());
    }

    private static void assertRejected(String reason, Executable fetch) {
        CheckpointRejectedException e = assertThrows(CheckpointRejectedException.class, fetch);
        assertTrue(e.getMessage().contains(reason), () -> "says '" + reason + "': " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), () -> "one line: " + e.getMessage());
    }

    private static void deleteTree(Path folder) throws IOException {
        try (var paths = Files.walk(folder)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
