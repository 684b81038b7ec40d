package io.neuronexplainer.watcher.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.producer.model.Gpt2Checkpoint;
import io.neuronexplainer.watcher.CheckpointCandidate;
import io.neuronexplainer.watcher.CheckpointRejectedException;
import io.neuronexplainer.watcher.CheckpointStep;
import io.neuronexplainer.watcher.CheckpointValidator;
import io.neuronexplainer.watcher.LocalCheckpoint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubSourceTest {
    private static final String REPO = "demo-org/demo-gpt2";
    /** The demo's folders are named {@code step-000300}; Pythia's branches {@code step300}: both match. */
    private static final Pattern STEP = Pattern.compile("step-?(\\d+)");

    @TempDir
    Path tmp;

    private LocalHub hub;
    private Path cache;

    @BeforeEach
    void start() throws IOException {
        hub = new LocalHub(REPO, Files.createDirectories(tmp.resolve("hub")));
        cache = tmp.resolve("cache");
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    @Test
    void branchesAppearOverTimeWithTheirSteps() throws IOException {
        HubSource source = source(null);
        String first = hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));

        assertEquals(List.of(new CheckpointCandidate("step-000300", 300L, first)), source.list());

        String second = hub.addBranch("step-001500", DemoGpt2.checkpoint("step-001500"));
        hub.addRef("refs/pr/1", "refs/pr/1", DemoGpt2.checkpoint("step-001500"));
        hub.addRef("pr-2", "refs/pr/2", DemoGpt2.checkpoint("step-001500"));
        String last = hub.addBranch("final", DemoGpt2.checkpoint("final"));

        List<CheckpointCandidate> expected = List.of(new CheckpointCandidate("step-000300", 300L, first),
                new CheckpointCandidate("step-001500", 1500L, second), new CheckpointCandidate("final", 6000L, last));
        assertEquals(expected, source.list());
        assertEquals(expected, source.list());
        assertEquals(1, hub.requestsEndingWith("/resolve/" + last + "/training_state.json").size(),
                "a commit's training_state.json is read once, not every poll");
        assertEquals(1, hub.requestsEndingWith("/training_state.json").size(), "named steps need no training_state.json");
    }

    @Test
    void aBranchWithoutAStepAnywhereHasNone() throws IOException {
        Path folder = copyOf("final", "training_state.json");
        String sha = hub.addBranch("main", folder);
        assertEquals(List.of(new CheckpointCandidate("main", null, sha)), source(null).list());
    }

    @Test
    void fetchDownloadsAVerifiedCheckpointThatLoads() throws Exception {
        String sha = hub.addBranch("step-001500", DemoGpt2.checkpoint("step-001500"));
        hub.addBranch("main", tokenizerOnly());
        HubSource source = source(null);
        CheckpointCandidate candidate = source.list().stream().filter(c -> c.name().equals("step-001500")).findFirst().orElseThrow();

        LocalCheckpoint local = source.fetch(candidate);

        Path folder = cache.resolve("demo-org--demo-gpt2/step-001500-" + sha.substring(0, 12));
        assertEquals(new LocalCheckpoint(candidate, folder, cache.resolve("demo-org--demo-gpt2/tokenizer.json"), true), local);
        assertArrayEquals(Files.readAllBytes(DemoGpt2.checkpoint("step-001500").resolve("model.safetensors")),
                Files.readAllBytes(folder.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(folder.resolve("config.json")));
        assertTrue(Files.isRegularFile(folder.resolve(CheckpointStep.TRAINING_STATE)));
        assertFalse(Files.exists(folder.resolve("generation_config.json")), "only what the producer needs is fetched");
        assertDoesNotThrow(() -> CheckpointValidator.check(local.folder(), local.tokenizer()));
        try (Gpt2Checkpoint model = Gpt2Checkpoint.open(local.folder())) {
            assertEquals(6, model.config().layers());
        }

        // Fetching again (a restarted watcher) checks the cached files instead of downloading them.
        int weightGets = hub.requestsEndingWith("/model.safetensors").size();
        int tokenizerGets = hub.requestsEndingWith("/tokenizer.json").size();
        assertEquals(local, source.fetch(candidate));
        assertEquals(weightGets, hub.requestsEndingWith("/model.safetensors").size());
        assertEquals(tokenizerGets, hub.requestsEndingWith("/tokenizer.json").size(), "main's tokenizer is fetched once");
    }

    @Test
    void aRevisionsOwnTokenizerOrTheOverrideIsUsed() throws Exception {
        Path withTokenizer = copyOf("step-000300");
        Files.copy(DemoGpt2.tokenizer(), withTokenizer.resolve("tokenizer.json"));
        String own = hub.addBranch("step-000300", withTokenizer);
        String plain = hub.addBranch("step-001500", DemoGpt2.checkpoint("step-001500"));
        HubSource source = source(DemoGpt2.tokenizer());

        LocalCheckpoint first = source.fetch(new CheckpointCandidate("step-000300", 300L, own));
        assertEquals(first.folder().resolve("tokenizer.json"), first.tokenizer());
        LocalCheckpoint second = source.fetch(new CheckpointCandidate("step-001500", 1500L, plain));
        assertEquals(DemoGpt2.tokenizer(), second.tokenizer());
        assertTrue(hub.requestsEndingWith("/tree/main").isEmpty(), "with an override, main is not consulted");
    }

    @Test
    void noTokenizerAnywhereIsRejected() throws IOException {
        String sha = hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
        CheckpointRejectedException e = assertThrows(CheckpointRejectedException.class,
                () -> source(null).fetch(new CheckpointCandidate("step-000300", 300L, sha)));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    @Test
    void aNonGpt2ConfigIsRefusedBeforeAnyWeightIsRequested() throws IOException {
        Path llama = copyOf("step-001500");
        Path config = llama.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"model_type\": \"gpt2\"", "\"model_type\": \"llama\""));
        String sha = hub.addBranch("step2000", llama);

        CheckpointRejectedException e = assertThrows(CheckpointRejectedException.class,
                () -> source(DemoGpt2.tokenizer()).fetch(new CheckpointCandidate("step2000", 2000L, sha)));

        assertTrue(e.getMessage().contains("model_type llama is not supported"), e.getMessage());
        assertEquals(1, hub.requestsEndingWith("/config.json").size());
        assertTrue(hub.requestsEndingWith("model.safetensors").isEmpty(), "no weight was requested: " + hub.requests());
    }

    @Test
    void corruptWeightsAreRejected() throws IOException {
        String sha = hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
        hub.corrupt("step-000300", "model.safetensors");

        CheckpointRejectedException e = assertThrows(CheckpointRejectedException.class,
                () -> source(DemoGpt2.tokenizer()).fetch(new CheckpointCandidate("step-000300", 300L, sha)));

        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("is corrupt: sha256"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        Path folder = cache.resolve("demo-org--demo-gpt2/step-000300-" + sha.substring(0, 12));
        assertFalse(Files.exists(folder.resolve("model.safetensors")));
        assertFalse(Files.exists(folder.resolve("model.safetensors.part")));
    }

    @Test
    void aTransferCutShortIsResumedWithinOneFetch() throws Exception {
        String sha = hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
        hub.cutShortOnce("model.safetensors", 4_000_000);

        LocalCheckpoint local = source(DemoGpt2.tokenizer()).fetch(new CheckpointCandidate("step-000300", 300L, sha));

        List<LocalHub.Request> gets = hub.requestsEndingWith("/model.safetensors");
        assertEquals(2, gets.size());
        assertTrue(gets.get(1).range().startsWith("bytes="), gets.toString());
        assertArrayEquals(hub.bytes("step-000300", "model.safetensors"), Files.readAllBytes(local.folder().resolve("model.safetensors")));
    }

    @Test
    void pytorchWeightsAloneAreRejected() throws IOException {
        Path bin = copyOf("step-000300", "model.safetensors");
        Files.write(bin.resolve("pytorch_model.bin"), new byte[4096]);
        String sha = hub.addBranch("step-000300", bin);

        CheckpointRejectedException e = assertThrows(CheckpointRejectedException.class,
                () -> source(DemoGpt2.tokenizer()).fetch(new CheckpointCandidate("step-000300", 300L, sha)));

        assertTrue(e.getMessage().contains("only pytorch_model.bin; safetensors weights (model.safetensors) are needed"), e.getMessage());
        assertTrue(hub.requestsEndingWith("pytorch_model.bin").isEmpty());
    }

    @Test
    void aShardedCheckpointMissingAShardIsRejectedBeforeDownloadingShards() throws IOException {
        Path sharded = copyOf("step-000300", "model.safetensors");
        Files.writeString(sharded.resolve("model.safetensors.index.json"), "{\"metadata\":{},\"weight_map\":{"
                + "\"transformer.wte.weight\":\"model-00001-of-00002.safetensors\","
                + "\"transformer.h.0.ln_1.weight\":\"model-00002-of-00002.safetensors\"}}", StandardCharsets.UTF_8);
        Files.write(sharded.resolve("model-00001-of-00002.safetensors"), new byte[1024]);
        String sha = hub.addBranch("step-000300", sharded);

        CheckpointRejectedException e = assertThrows(CheckpointRejectedException.class,
                () -> source(DemoGpt2.tokenizer()).fetch(new CheckpointCandidate("step-000300", 300L, sha)));

        assertTrue(e.getMessage().contains("lacks shard(s) model-00002-of-00002.safetensors"), e.getMessage());
        assertTrue(hub.requestsEndingWith("model-00001-of-00002.safetensors").isEmpty());
    }

    @Test
    void describeNamesRepositoryAndEndpoint() {
        assertEquals("hub " + REPO + " at " + hub.endpoint(), source(null).describe());
    }

    private HubSource source(Path tokenizerOverride) {
        HubClient client = new HubClient(hub.endpoint(), null, Duration.ofSeconds(5), Duration.ofSeconds(5));
        return new HubSource(client, REPO, STEP, cache, tokenizerOverride);
    }

    /** A copy of a demo checkpoint without the named files. */
    private Path copyOf(String checkpoint, String... without) throws IOException {
        Path copy = Files.createTempDirectory(tmp, checkpoint);
        try (var files = Files.list(DemoGpt2.checkpoint(checkpoint))) {
            for (Path f : files.toList()) {
                if (!List.of(without).contains(f.getFileName().toString())) {
                    Files.copy(f, copy.resolve(f.getFileName()));
                }
            }
        }
        return copy;
    }

    private Path tokenizerOnly() throws IOException {
        Path main = Files.createTempDirectory(tmp, "main");
        Files.copy(DemoGpt2.tokenizer(), main.resolve("tokenizer.json"));
        return main;
    }
}
