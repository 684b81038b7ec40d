package io.neuronexplainer.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.producer.corpus.CorpusSource;
import io.neuronexplainer.producer.model.DefaultModel;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.TopicSnapshot;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.CheckpointKey;
import io.neuronexplainer.schemas.CheckpointReleased;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.RunState;
import io.neuronexplainer.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code produce --follow}: released checkpoints run once each, in a consumer group, on a real broker and registry. */
class CheckpointFollowerTest {
    static final String MODEL = "follow-gpt2";
    static TestKafka kafka;
    static KafkaClients clients;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        kafka = TestKafka.start(1).withTopics(3);
        clients = kafka.clients();
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    static void release(String checkpoint, Path folder, boolean downloaded) throws Exception {
        Path demo = DefaultModel.folder().getParent();
        try (KafkaProducer<SpecificRecord, SpecificRecord> producer = new KafkaProducer<>(clients.producer(null),
                new AvroSerializer<>(clients.registry(), true), new AvroSerializer<>(clients.registry(), false))) {
            producer.send(new ProducerRecord<>(Topics.CHECKPOINTS, new CheckpointKey(MODEL, checkpoint),
                    new CheckpointReleased(MODEL, checkpoint, null, "folder " + demo, "test", folder.toString(),
                            demo.resolve("tokenizer.json").toString(), downloaded, Instant.now()))).get();
        }
    }

    CheckpointRunner runner() {
        return new CheckpointRunner(clients, CorpusSource.of(null), null, SamplingSettings.defaults(), 40, 8, "0:0-9",
                null, false, () -> PassProgress.NONE, new CheckpointRunner.Resilience(new PassSnapshotStore(dir.resolve("snapshots")),
                        java.time.Duration.ZERO, 1, false));
    }

    static List<CheckpointRun> runs(String checkpoint) {
        return TopicSnapshot.read(clients, Topics.CHECKPOINT_RUNS, CheckpointRunKey.class, CheckpointRun.class).stream()
                .filter(r -> r.key().getModel().equals(MODEL) && r.key().getCheckpoint().equals(checkpoint))
                .map(ConsumerRecord::value).toList();
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(100);
        }
    }

    @Test
    void runsEachReleasedCheckpointOnceAndSkipsCompletedRuns() throws Exception {
        Path demo = DefaultModel.folder().getParent();
        Path downloaded = dir.resolve("cache").resolve("final");
        Files.createDirectories(downloaded);
        try (var files = Files.list(demo.resolve("final"))) {
            for (Path f : files.toList()) {
                Files.copy(f, downloaded.resolve(f.getFileName()));
            }
        }
        Path broken = dir.resolve("broken");
        Files.createDirectories(broken);
        Files.copy(demo.resolve("final").resolve("config.json"), broken.resolve("config.json"));

        release("step-000300", demo.resolve("step-000300"), false);
        release("broken", broken, false);
        release("final", downloaded, true);
        CheckpointRunner runner = runner();
        try (CheckpointFollower follower = new CheckpointFollower(clients, runner, "follow-test", null, false)) {
            Thread thread = new Thread(follower::run);
            thread.start();
            await(() -> follower.completed() == 2 && follower.failed() == 1, "two runs and one failure");
            // A run counts as completed before its record's offset is committed: stopping in between
            // would leave the record to the next follower, which skips it, and this test then counts it.
            await(() -> committedToEnd("follow-test"), "the follower's offsets committed");
            follower.stop();
            thread.join(30_000);
        }
        for (String checkpoint : List.of("step-000300", "final")) {
            List<CheckpointRun> runs = runs(checkpoint);
            assertEquals(RunState.COMPLETED, runs.get(runs.size() - 1).getState(), checkpoint + ": " + runs);
            String expectedId = runner.identity(new CheckpointRunner.Checkpoint(null, null, MODEL, checkpoint, null)).runId();
            assertEquals(expectedId, runs.get(runs.size() - 1).getRunId());
            assertEquals(10, runs.get(runs.size() - 1).getNeuronsEmitted());
        }
        assertFalse(Files.exists(downloaded), "a downloaded checkpoint's files are deleted after its run");
        List<DeadLetter> letters = TopicSnapshot.read(clients, Topics.deadLetter(Topics.CHECKPOINTS), CheckpointKey.class,
                DeadLetter.class).stream().map(ConsumerRecord::value).toList();
        assertEquals(1, letters.size(), letters.toString());
        assertTrue(letters.get(0).getErrorMessage().contains("model.safetensors"), letters.get(0).getErrorMessage());
        long records = neuronRecords();
        assertEquals(20, records);

        // A restarted follower resumes after the committed offsets; a checkpoint released again is
        // skipped, as its run already COMPLETED: nothing is emitted a second time.
        release("step-000300", demo.resolve("step-000300"), false);
        try (CheckpointFollower follower = new CheckpointFollower(clients, runner(), "follow-test", null, false)) {
            Thread thread = new Thread(follower::run);
            thread.start();
            await(() -> follower.skipped() == 1, "the released-again checkpoint skipped");
            follower.stop();
            thread.join(30_000);
            assertEquals(0, follower.completed());
            assertEquals(0, follower.failed());
        }
        assertEquals(records, neuronRecords());
        assertEquals(1, runs("step-000300").stream().filter(r -> r.getState() == RunState.STARTED).count());
    }

    /** Whether {@code group} has committed every record of the topics the follower reads (written without transactions). */
    static boolean committedToEnd(String group) {
        try (Admin admin = Admin.create(clients.admin())) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            var topics = admin.describeTopics(List.of(Topics.CHECKPOINTS, Topics.PASS_SHARDS)).allTopicNames().get();
            topics.forEach((topic, description) -> description.partitions().forEach(
                    p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest())));
            var ends = admin.listOffsets(latest).all().get();
            return ends.entrySet().stream().allMatch(e -> e.getValue().offset() == 0
                    || (committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() == e.getValue().offset()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static long neuronRecords() {
        return TopicSnapshot.read(clients, Topics.NEURON_ACTIVATIONS, ActivationsKey.class, NeuronActivations.class).stream()
                .filter(r -> r.key().getNeuron().getModel().equals(MODEL)).count();
    }
}
