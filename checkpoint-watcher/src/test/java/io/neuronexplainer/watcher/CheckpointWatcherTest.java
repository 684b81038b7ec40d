package io.neuronexplainer.watcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.TopicSnapshot;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.CheckpointKey;
import io.neuronexplainer.schemas.CheckpointReleased;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.RunState;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.watcher.folder.FolderSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The watcher on a real broker and registry, over a training run's folder holding the real demo checkpoints. */
class CheckpointWatcherTest {
    static final Path DEMO = Path.of(System.getProperty("neuron.project.root", "..")).toAbsolutePath().normalize()
            .resolve("models/demo-gpt2");
    static TestKafka kafka;
    static KafkaClients clients;

    @TempDir
    Path run;

    @BeforeAll
    static void start() throws Exception {
        kafka = TestKafka.start(1).withTopics(3);
        clients = kafka.clients();
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    void write(String checkpoint, String as) throws IOException {
        Path target = Files.createDirectories(run.resolve(as));
        try (var files = Files.list(DEMO.resolve(checkpoint))) {
            for (Path f : files.toList()) {
                Files.copy(f, target.resolve(f.getFileName()));
            }
        }
        Files.writeString(target.resolve("READY"), "");
    }

    CheckpointWatcher watcher(String model, BacklogPolicy policy) {
        FolderSource source = new FolderSource(run, Pattern.compile(CheckpointStep.DEFAULT_PATTERN), Duration.ofHours(1),
                "READY", null, Clock.systemUTC());
        return new CheckpointWatcher(clients, source, new CheckpointWatcher.Settings(model, Duration.ofHours(1), policy),
                new SimpleMeterRegistry());
    }

    static List<CheckpointReleased> released(String model) {
        return TopicSnapshot.read(clients, Topics.CHECKPOINTS, CheckpointKey.class, CheckpointReleased.class).stream()
                .map(ConsumerRecord::value).filter(r -> r.getModel().equals(model)).toList();
    }

    @Test
    void releasesEachCompleteCheckpointOnceInStepOrderAndRefusesUnreadableOnes() throws Exception {
        Files.copy(DEMO.resolve("tokenizer.json"), run.resolve("tokenizer.json"));
        write("final", "final");             // step 6000, from training_state.json
        write("step-001500", "step-001500");
        write("step-000300", "step-000300");
        Files.createDirectories(run.resolve("step-000900")); // half-written: config only, no READY
        Files.copy(DEMO.resolve("final/config.json"), run.resolve("step-000900/config.json"));
        try (CheckpointWatcher watcher = watcher("run-a", BacklogPolicy.ALL_OLDEST_FIRST)) {
            watcher.start();
            assertEquals(3, watcher.pollOnce());
            assertEquals(0, watcher.pollOnce(), "nothing is released twice");
        }
        // Keyed by checkpoint, the records spread over partitions: release order shows in released_at.
        List<CheckpointReleased> first = released("run-a").stream()
                .sorted(java.util.Comparator.comparing(CheckpointReleased::getStep)).toList();
        assertEquals(List.of("step-000300", "step-001500", "final"), first.stream().map(CheckpointReleased::getCheckpoint).toList());
        assertEquals(List.of(300L, 1500L, 6000L), first.stream().map(CheckpointReleased::getStep).toList());
        for (int i = 1; i < first.size(); i++) {
            assertTrue(!first.get(i).getReleasedAt().isBefore(first.get(i - 1).getReleasedAt()), "released in step order");
        }
        assertEquals(run.resolve("tokenizer.json").toString(), first.get(0).getTokenizer());

        // A corrupt checkpoint completes later; a restarted watcher releases nothing again, refuses it once.
        write("step-001500", "step-003000");
        Path weights = run.resolve("step-003000/model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, 100));
        try (CheckpointWatcher watcher = watcher("run-a", BacklogPolicy.ALL_OLDEST_FIRST)) {
            watcher.start();
            assertEquals(0, watcher.pollOnce());
            assertEquals(0, watcher.pollOnce());
        }
        try (CheckpointWatcher watcher = watcher("run-a", BacklogPolicy.ALL_OLDEST_FIRST)) {
            watcher.start();
            assertEquals(0, watcher.pollOnce(), "a refused checkpoint is not refused again after a restart");
        }
        assertEquals(3, released("run-a").size());
        List<CheckpointRun> failed = TopicSnapshot.read(clients, Topics.CHECKPOINT_RUNS, CheckpointRunKey.class,
                CheckpointRun.class).stream().map(ConsumerRecord::value).filter(r -> r.getModel().equals("run-a")).toList();
        assertEquals(1, failed.size(), failed.toString());
        assertEquals(RunState.FAILED, failed.get(0).getState());
        assertEquals("step-003000", failed.get(0).getCheckpoint());
        assertEquals(CheckpointWatcher.STAGE, failed.get(0).getStage());
        assertEquals(3000L, failed.get(0).getStep());
        List<DeadLetter> letters = TopicSnapshot.read(clients, Topics.deadLetter(Topics.CHECKPOINTS), CheckpointKey.class,
                DeadLetter.class).stream().map(ConsumerRecord::value).toList();
        assertEquals(1, letters.size());
        assertTrue(letters.get(0).getErrorMessage().startsWith("step-003000"), letters.get(0).getErrorMessage());
        assertTrue(failed.get(0).getMessage().contains("model.safetensors"), failed.get(0).getMessage());
    }

    @Test
    void backlogPolicyFiltersAndOrders() throws Exception {
        Files.copy(DEMO.resolve("tokenizer.json"), run.resolve("tokenizer.json"));
        write("step-000300", "step-000300");
        write("step-001500", "step-001500");
        write("final", "final");
        try (CheckpointWatcher watcher = watcher("run-b", new BacklogPolicy(1000L, 1500L, BacklogPolicy.Order.NEWEST_FIRST))) {
            watcher.start();
            assertEquals(2, watcher.pollOnce());
        }
        List<CheckpointReleased> released = released("run-b").stream()
                .sorted(java.util.Comparator.comparing(CheckpointReleased::getStep)).toList();
        assertEquals(List.of("step-001500", "final"), released.stream().map(CheckpointReleased::getCheckpoint).toList());
        assertTrue(!released.get(0).getReleasedAt().isBefore(released.get(1).getReleasedAt()), "newest first");
    }
}
