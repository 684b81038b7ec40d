package io.neuronexplainer.watcher.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubClientTest {
    private static final String REPO = "demo-org/demo-gpt2";

    @TempDir
    Path tmp;

    private LocalHub hub;
    private HubClient client;

    @BeforeEach
    void start() throws IOException {
        hub = new LocalHub(REPO, Files.createDirectories(tmp.resolve("hub")));
        client = new HubClient(hub.endpoint(), null, Duration.ofSeconds(5), Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    @Test
    void listsBranchesAndFilesInTheHubsShapes() throws IOException {
        String sha = hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
        hub.addRef("refs/pr/1", "refs/pr/1", DemoGpt2.checkpoint("step-001500"));

        List<HubBranch> branches = client.refs(REPO);
        assertEquals(2, branches.size());
        HubBranch step = branches.stream().filter(b -> b.name().equals("step-000300")).findFirst().orElseThrow();
        assertEquals(new HubBranch("step-000300", "refs/heads/step-000300", sha), step);
        assertFalse(step.isPullRequest());
        assertTrue(branches.stream().anyMatch(HubBranch::isPullRequest));

        hub.treePageSize(1); // four files and a folder over four pages
        Map<String, HubFile> files = client.tree(REPO, sha).stream().collect(Collectors.toMap(HubFile::path, Function.identity()));
        assertEquals(List.of("config.json", "generation_config.json", "model.safetensors", "training_state.json"),
                files.keySet().stream().sorted().toList());
        assertEquals(4, hub.requestsEndingWith("/tree/" + sha).size());
        HubFile weights = files.get("model.safetensors");
        assertEquals(Files.size(DemoGpt2.checkpoint("step-000300").resolve("model.safetensors")), weights.size());
        assertEquals(LocalHub.sha256Hex(hub.bytes("step-000300", "model.safetensors")), weights.sha256());
        assertNull(files.get("config.json").sha256(), "a small file is not an LFS file");

        assertEquals("{\"step\": 300, \"tokens_seen\": 4915200}", client.readText(REPO, sha, "training_state.json").strip());
    }

    @Test
    void downloadVerifiesTheLfsSha256() throws IOException {
        String sha = hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
        hub.redirectDownloads(true);
        HubFile weights = file(sha, "model.safetensors");
        Path target = tmp.resolve("out/model.safetensors");

        client.download(REPO, sha, weights, target);

        assertArrayEquals(hub.bytes("step-000300", "model.safetensors"), Files.readAllBytes(target));
        assertFalse(Files.exists(target.resolveSibling("model.safetensors.part")));
        assertEquals(1, hub.requests().stream().filter(r -> r.path().startsWith("/cdn/")).count(), "the redirect was followed");
        int before = hub.requests().size();
        client.download(REPO, sha, weights, target);
        assertEquals(before, hub.requests().size(), "a verified file is not fetched again");
    }

    @Test
    void corruptBytesAreRefusedAndThePartDropped() throws IOException {
        String sha = hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
        hub.corrupt("step-000300", "model.safetensors");
        Path target = tmp.resolve("out/model.safetensors");

        HubIntegrityException e = assertThrows(HubIntegrityException.class,
                () -> client.download(REPO, sha, file(sha, "model.safetensors"), target));

        assertTrue(e.getMessage().contains("is corrupt: sha256"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        assertFalse(Files.exists(target));
        assertFalse(Files.exists(target.resolveSibling("model.safetensors.part")));
    }

    @Test
    void aBodyCutShortIsResumedWithARange() throws IOException {
        String sha = hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
        HubFile weights = file(sha, "model.safetensors");
        Path target = tmp.resolve("out/model.safetensors");
        Path part = target.resolveSibling("model.safetensors.part");
        hub.cutShortOnce("model.safetensors", 3_000_000);

        IOException first = assertThrows(IOException.class, () -> client.download(REPO, sha, weights, target));
        assertTrue(first.getMessage().contains("broke off"), first.getMessage());
        long kept = Files.size(part);
        assertTrue(kept > 0 && kept <= 3_000_000, "kept " + kept);

        client.download(REPO, sha, weights, target);

        List<LocalHub.Request> gets = hub.requestsEndingWith("/resolve/" + sha + "/model.safetensors");
        assertEquals(2, gets.size());
        assertNull(gets.get(0).range());
        assertEquals("bytes=" + kept + "-", gets.get(1).range());
        assertArrayEquals(hub.bytes("step-000300", "model.safetensors"), Files.readAllBytes(target));
        assertFalse(Files.exists(part));
    }

    @Test
    void aServerIgnoringTheRangeMeansStartingOver() throws IOException {
        String sha = hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
        HubFile weights = file(sha, "model.safetensors");
        Path target = tmp.resolve("out/model.safetensors");
        hub.cutShortOnce("model.safetensors", 1_000_000);
        assertThrows(IOException.class, () -> client.download(REPO, sha, weights, target));
        hub.ignoreRange(true);

        client.download(REPO, sha, weights, target);

        assertTrue(hub.requestsEndingWith("/model.safetensors").get(1).range().startsWith("bytes="));
        assertArrayEquals(hub.bytes("step-000300", "model.safetensors"), Files.readAllBytes(target));
    }

    @Test
    void aStalledTransferIsAbandonedThenResumed() throws IOException {
        String sha = hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
        HubClient impatient = new HubClient(hub.endpoint(), null, Duration.ofSeconds(5), Duration.ofMillis(300));
        HubFile weights = file(sha, "model.safetensors");
        Path target = tmp.resolve("out/model.safetensors");
        hub.stallOnce("model.safetensors", 2_000_000);

        long start = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> impatient.download(REPO, sha, weights, target));
        assertTrue(e.getMessage().contains("stalled"), e.getMessage());
        assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 5000, "gave up within the stall limit");
        assertFalse(Thread.currentThread().isInterrupted(), "the guard's interrupt does not leak to the caller");
        long kept = Files.size(target.resolveSibling("model.safetensors.part"));

        client.download(REPO, sha, weights, target); // a client with room for a slow test machine
        assertEquals("bytes=" + kept + "-", hub.requestsEndingWith("/model.safetensors").get(1).range());
        assertArrayEquals(hub.bytes("step-000300", "model.safetensors"), Files.readAllBytes(target));
    }

    @Test
    void aRequiredTokenIsSentAndItsAbsenceNamed() throws IOException {
        String sha = hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
        hub.requireToken("hf_test");

        HubHttpException refused = assertThrows(HubHttpException.class, () -> client.refs(REPO));
        assertEquals(401, refused.status());
        assertTrue(refused.getMessage().contains(hub.endpoint() + "/api/models/" + REPO + "/refs"), refused.getMessage());
        assertTrue(refused.getMessage().contains("token"), refused.getMessage());

        HubClient withToken = new HubClient(hub.endpoint(), "hf_test");
        assertEquals(sha, withToken.refs(REPO).get(0).targetCommit());
        assertEquals("Bearer hf_test", hub.requests().get(hub.requests().size() - 1).authorization());
    }

    @Test
    void aMissingRepositoryOrRevisionIsNamed() throws IOException {
        hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
        HubHttpException noRepo = assertThrows(HubHttpException.class, () -> client.refs("demo-org/absent"));
        assertEquals(404, noRepo.status());
        assertTrue(noRepo.getMessage().contains("not found"), noRepo.getMessage());
        HubHttpException noRevision = assertThrows(HubHttpException.class, () -> client.tree(REPO, "f".repeat(40)));
        assertTrue(noRevision.getMessage().contains("/tree/" + "f".repeat(40) + " answered HTTP 404"), noRevision.getMessage());
    }

    private HubFile file(String sha, String path) throws IOException {
        return client.tree(REPO, sha).stream().filter(f -> f.path().equals(path)).findFirst().orElseThrow();
    }
}
