package io.neuronexplainer.watcher.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.FreePort;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.TopicSnapshot;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.test.TestRegistry;
import io.neuronexplainer.schemas.CheckpointKey;
import io.neuronexplainer.schemas.CheckpointReleased;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.watcher.WatchCommand;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code neuron-explain watch --hub-repo} on a real broker and registry against a local Hub-API
 * server: the first poll releases the branch there; a later branch is released when the Hub's
 * webhook calls, long before the next poll (an hour away), and only with the right secret.
 */
class WatchWebhookTest {
    static final String REPO = "demo-org/demo-gpt2";

    @TempDir
    Path tmp;

    @Test
    void aWebhookReleasesANewBranchAtOnce() throws Exception {
        try (TestKafka kafka = TestKafka.start(1);
             LocalHub hub = new LocalHub(REPO, Files.createDirectories(tmp.resolve("hub")))) {
            KafkaClients clients = kafka.clients();
            hub.addBranch("step-000300", DemoGpt2.checkpoint("step-000300"));
            int port = FreePort.find();
            CompletableFuture<Integer> watch = CompletableFuture.supplyAsync(() -> new CommandLine(new WatchCommand()).execute(
                    "--bootstrap-servers", kafka.bootstrapServers(), "--registry-url", TestRegistry.url(), "--partitions", "3",
                    "--hub-repo", REPO, "--hub-endpoint", hub.endpoint(), "--cache-dir", tmp.resolve("cache").toString(),
                    "--tokenizer", DemoGpt2.tokenizer().toString(),
                    "--poll-s", "3600", "--http-port", Integer.toString(port), "--webhook-secret", "s3cret",
                    "--until-step", "1500"));
            awaitReleased(clients, 1, watch);

            String sha = hub.addBranch("step-001500", DemoGpt2.checkpoint("step-001500"));
            String body = "{\"event\":{\"action\":\"update\",\"scope\":\"repo.content\"},\"repo\":{\"type\":\"model\",\"name\":\""
                    + REPO + "\"},\"updatedRefs\":[{\"ref\":\"refs/heads/step-001500\",\"oldSha\":null,\"newSha\":\"" + sha + "\"}]}";
            HttpClient http = HttpClient.newHttpClient();
            URI hook = URI.create("http://127.0.0.1:" + port + HubWebhookHandler.PATH);
            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(hook).header(HubWebhook.SECRET_HEADER, "wrong")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, refused.statusCode());
            Thread.sleep(2_000);
            assertEquals(1, released(clients).size(), "a call with the wrong secret wakes nothing");
            assertFalse(watch.isDone());

            HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(hook).header(HubWebhook.SECRET_HEADER, "s3cret")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, accepted.statusCode(), accepted.body());
            assertEquals(0, watch.get(60, TimeUnit.SECONDS), "--until-step 1500 ends the watch once step 1500 is released");
            List<CheckpointReleased> released = released(clients);
            assertEquals(List.of("step-000300", "step-001500"), released.stream().map(CheckpointReleased::getCheckpoint)
                    .sorted().toList());
            for (CheckpointReleased r : released) {
                assertTrue(r.getDownloaded());
                assertTrue(Files.isRegularFile(Path.of(r.getFolder()).resolve("model.safetensors")), r.getFolder());
                assertTrue(r.getSource().startsWith("hub " + REPO), r.getSource());
            }
        }
    }

    static List<CheckpointReleased> released(KafkaClients clients) {
        return TopicSnapshot.read(clients, Topics.CHECKPOINTS, CheckpointKey.class, CheckpointReleased.class).stream()
                .map(ConsumerRecord::value).toList();
    }

    static void awaitReleased(KafkaClients clients, int count, CompletableFuture<Integer> watch) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (released(clients).size() < count) {
            assertFalse(watch.isDone(), () -> "watch ended with exit code " + watch.join());
            assertTrue(System.nanoTime() < deadline, "nothing released in 60 s");
            Thread.sleep(200);
        }
    }
}
