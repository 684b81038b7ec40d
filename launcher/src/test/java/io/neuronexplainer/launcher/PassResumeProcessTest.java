package io.neuronexplainer.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.TopicSnapshot;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.test.TestRegistry;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.CheckpointKey;
import io.neuronexplainer.schemas.CheckpointReleased;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.RunState;
import io.neuronexplainer.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint's pass survives a producer killed with kill -9 (another process with an empty
 * working folder resumes it from the shared snapshot folder), and spreads over two producer
 * processes as two shards: either way the neuron records equal an uninterrupted one-process run's.
 */
class PassResumeProcessTest {
    static final Path DEMO = Path.of(System.getProperty("neuron.project.root", "..")).toAbsolutePath().normalize()
            .resolve("models/demo-gpt2");
    /** Layer 5 neurons: the pass runs all 6 layers, long enough to be killed in the middle. */
    static final String NEURONS = "5:0-29";
    static final String WINDOWS = "1600";
    static TestKafka kafka;
    static KafkaClients clients;
    static String[] cluster;
    static Map<String, NeuronActivations> reference;

    @TempDir
    static Path shared;

    @BeforeAll
    static void start() throws Exception {
        kafka = TestKafka.start(1).withTopics(6);
        clients = kafka.clients();
        // A killed member's partitions move on after the session timeout: short here, so the test is quick.
        Path config = shared.resolve("client.properties");
        Files.writeString(config, "session.timeout.ms=6000\nheartbeat.interval.ms=1000\n");
        cluster = new String[] {"--bootstrap-servers", kafka.bootstrapServers(), "--registry-url", TestRegistry.url(),
                "--kafka-config", config.toString()};
        var ref = CliProcess.run(shared.resolve("reference.err"), 300, FourProcessTest.concat(new String[] {"produce",
                "--model", DEMO.resolve("final").toString(), "--model-name", "reference", "--neurons", NEURONS,
                "--windows", WINDOWS, "--data-dir", shared.resolve("reference").toString()}, cluster));
        assertEquals(0, ref.exitCode(), () -> CliProcess.lastLines(ref.stderr(), 20));
        reference = activations("reference");
        assertEquals(30, reference.size());
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    static Map<String, NeuronActivations> activations(String model) {
        Map<String, NeuronActivations> out = new TreeMap<>();
        for (ConsumerRecord<ActivationsKey, NeuronActivations> r
                : TopicSnapshot.read(clients, Topics.NEURON_ACTIVATIONS, ActivationsKey.class, NeuronActivations.class)) {
            NeuronKey key = r.key().getNeuron();
            if (key.getModel().equals(model)) {
                out.put(key.getLayer() + ":" + key.getNeuron(), r.value());
            }
        }
        return out;
    }

    static List<CheckpointRun> runs(String model) {
        return TopicSnapshot.read(clients, Topics.CHECKPOINT_RUNS, CheckpointRunKey.class, CheckpointRun.class).stream()
                .map(ConsumerRecord::value).filter(r -> r.getModel().equals(model)).toList();
    }

    static void release(String model) throws Exception {
        try (KafkaProducer<SpecificRecord, SpecificRecord> producer = new KafkaProducer<>(clients.producer(null),
                new AvroSerializer<>(clients.registry(), true), new AvroSerializer<>(clients.registry(), false))) {
            producer.send(new ProducerRecord<>(Topics.CHECKPOINTS, new CheckpointKey(model, "final"),
                    new CheckpointReleased(model, "final", 6000L, "test", "test", DEMO.resolve("final").toString(),
                            DEMO.resolve("tokenizer.json").toString(), false, Instant.now()))).get();
        }
    }

    static String[] follower(String model, Path dataDir, Path snapshots, String... more) {
        List<String> args = new ArrayList<>(List.of("produce", "--follow", "--neurons", NEURONS, "--windows", WINDOWS,
                "--group-id", "producers-" + model, "--data-dir", dataDir.toString(), "--snapshot-dir", snapshots.toString(),
                "--snapshot-every", "1"));
        args.addAll(List.of(more));
        args.addAll(List.of(cluster));
        return args.toArray(String[]::new);
    }

    static void await(BooleanSupplier condition, long seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(200);
        }
    }

    static boolean completed(String model) {
        return runs(model).stream().anyMatch(r -> r.getState() == RunState.COMPLETED && r.getShard() == -1);
    }

    static void assertSameAsReference(String model) {
        Map<String, NeuronActivations> got = activations(model);
        assertEquals(reference.keySet(), got.keySet());
        for (String neuron : reference.keySet()) {
            NeuronActivations want = reference.get(neuron);
            NeuronActivations have = got.get(neuron);
            assertWindows(neuron, want.getExplanationWindows(), have.getExplanationWindows());
            assertWindows(neuron, want.getScoringTopWindows(), have.getScoringTopWindows());
            assertWindows(neuron, want.getScoringRandomWindows(), have.getScoringRandomWindows());
            assertEquals(want.getStats().getWindowsSeen(), have.getStats().getWindowsSeen(), neuron);
            assertEquals(want.getStats().getMeanActivation(), have.getStats().getMeanActivation(), 1e-5, neuron);
        }
    }

    static void assertWindows(String neuron, List<ActivationWindow> want, List<ActivationWindow> have) {
        assertEquals(want.stream().map(ActivationWindow::getWindowIndex).toList(),
                have.stream().map(ActivationWindow::getWindowIndex).toList(), neuron + ": the same windows");
        for (int w = 0; w < want.size(); w++) {
            for (int t = 0; t < want.get(w).getActivations().size(); t++) {
                assertEquals(want.get(w).getActivations().get(t), have.get(w).getActivations().get(t), 1e-5,
                        neuron + " window " + want.get(w).getWindowIndex() + " token " + t);
            }
        }
    }

    static boolean snapshotExists(Path snapshots) {
        if (!Files.isDirectory(snapshots)) {
            return false;
        }
        try (Stream<Path> files = Files.walk(snapshots)) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith(".state"));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void aKilledProducersPassIsResumedByAnotherProcess() throws Exception {
        Path snapshots = shared.resolve("snapshots-resume");
        Process first = CliProcess.start(shared.resolve("first.err"), follower("resumed", shared.resolve("first"), snapshots));
        try {
            release("resumed");
            await(() -> snapshotExists(snapshots), 120, "a first snapshot");
            Thread.sleep(1_500); // a further snapshot or two, then the kill in the middle of the pass
        } finally {
            first.destroyForcibly();
            assertTrue(first.waitFor(30, TimeUnit.SECONDS));
        }
        assertTrue(!completed("resumed"), "killed before the end of its pass");
        Process second = CliProcess.start(shared.resolve("second.err"), follower("resumed", shared.resolve("second"), snapshots));
        try {
            await(() -> completed("resumed"), 180, "the resumed run to complete; the second producer said: "
                    + lastLines(shared.resolve("second.err")));
        } finally {
            second.destroy();
            assertTrue(second.waitFor(60, TimeUnit.SECONDS));
        }
        String said = Files.readString(shared.resolve("second.err"));
        assertTrue(said.contains("resumed from window"), CliProcess.lastLines(said, 20));
        assertSameAsReference("resumed");
    }

    @Test
    void twoProducersShareTwoShardsOfOnePass() throws Exception {
        Path snapshots = shared.resolve("snapshots-shards");
        List<Process> producers = new ArrayList<>();
        try {
            for (String name : List.of("a", "b")) {
                producers.add(CliProcess.start(shared.resolve("shard-" + name + ".err"), follower("sharded",
                        shared.resolve("shard-" + name), snapshots, "--shards", "2", "--instance-id", "producer-" + name)));
            }
            await(() -> members("producers-sharded") == 2, 120, "both producers in the group");
            release("sharded");
            await(() -> completed("sharded"), 240, "the sharded run to complete");
        } finally {
            for (Process p : producers) {
                p.destroy();
            }
            for (Process p : producers) {
                assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            }
        }
        String a = Files.readString(shared.resolve("shard-a.err"));
        String b = Files.readString(shared.resolve("shard-b.err"));
        assertTrue(a.contains("of 2 done") && b.contains("of 2 done"), "each producer ran a shard:\n[a] "
                + CliProcess.lastLines(a, 10) + "\n[b] " + CliProcess.lastLines(b, 10));
        List<CheckpointRun> shardRuns = runs("sharded").stream().filter(r -> r.getShard() >= 0).toList();
        assertEquals(java.util.Set.of(0, 1), shardRuns.stream().map(CheckpointRun::getShard).collect(java.util.stream.Collectors.toSet()));
        assertSameAsReference("sharded");
    }

    static int members(String group) {
        try (Admin admin = Admin.create(clients.admin())) {
            return admin.describeConsumerGroups(List.of(group)).all().get().get(group).members().size();
        } catch (Exception e) {
            return 0;
        }
    }

    static String lastLines(Path file) {
        try {
            return CliProcess.lastLines(Files.readString(file), 15);
        } catch (java.io.IOException e) {
            return "(nothing)";
        }
    }
}
