package io.neuronexplainer.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.producer.model.DefaultModel;
import io.neuronexplainer.producer.model.Gpt2Model;
import io.neuronexplainer.producer.model.Gpt2Tokenizer;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.TopicSnapshot;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.test.TestRegistry;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.RunState;
import io.neuronexplainer.schemas.Topics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code neuron-explain produce} end to end: the real demo GPT-2, a real broker, the real registry. */
class ProduceCommandTest {
    static TestKafka kafka;
    static KafkaClients clients;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        kafka = TestKafka.start(1);
        clients = kafka.clients();
    }

    @AfterAll
    static void stop() {
        kafka.close();
    }

    /** Runs the command in this JVM; returns exit code, stdout and stderr. */
    static String[] produce(String... args) {
        List<String> all = new ArrayList<>(List.of("--bootstrap-servers", kafka.bootstrapServers(),
                "--registry-url", TestRegistry.url(), "--partitions", "3"));
        all.addAll(List.of(args));
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
            code = new CommandLine(new ProduceCommand()).execute(all.toArray(String[]::new));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String stdout = outBytes.toString(StandardCharsets.UTF_8);
        String stderr = errBytes.toString(StandardCharsets.UTF_8);
        out.print(stdout);
        return new String[] {Integer.toString(code), stdout, stderr};
    }

    static List<NeuronActivations> activationsOf(String model) {
        return TopicSnapshot.read(clients, Topics.NEURON_ACTIVATIONS, ActivationsKey.class, NeuronActivations.class).stream()
                .filter(r -> r.key().getNeuron().getModel().equals(model)).map(ConsumerRecord::value).toList();
    }

    static List<CheckpointRun> runsOf(String model) {
        return TopicSnapshot.read(clients, Topics.CHECKPOINT_RUNS, CheckpointRunKey.class, CheckpointRun.class).stream()
                .filter(r -> r.key().getModel().equals(model)).map(ConsumerRecord::value).toList();
    }

    @Test
    void demoModelOverTheDefaultCorpus() throws IOException {
        String[] result = produce("--layers", "0,5", "--windows", "40", "--batch", "8");
        assertEquals("0", result[0], result[2]);
        assertTrue(result[1].contains("neurons emitted: 1,024"), result[1]);
        assertTrue(result[1].contains("peak resident:"), result[1]);

        List<NeuronActivations> records = activationsOf("demo-gpt2");
        assertEquals(1024, records.size());
        Set<String> keys = new HashSet<>();
        for (NeuronActivations r : records) {
            assertEquals("final", r.getNeuron().getCheckpoint());
            assertTrue(keys.add(r.getNeuron().getLayer() + "/" + r.getNeuron().getNeuron()));
            assertEquals("europarl-en", r.getRun().getCorpus());
            Set<Long> seen = new HashSet<>();
            for (ActivationWindow w : CorpusPassTest.all(r)) {
                assertEquals(64, w.getTokens().size());
                assertTrue(seen.add(w.getWindowIndex()), "splits disjoint");
            }
            assertEquals(5, r.getExplanationWindows().size());
            assertEquals(5, r.getScoringTopWindows().size());
            assertEquals(5, r.getScoringRandomWindows().size());
            for (int i = 1; i < 5; i++) {
                assertTrue(r.getExplanationWindows().get(i - 1).getMaxActivation()
                        >= r.getExplanationWindows().get(i).getMaxActivation());
            }
        }

        // The recorded activations are the model's: recompute two windows of one neuron directly.
        NeuronActivations sample = records.stream()
                .filter(r -> r.getNeuron().getLayer() == 5 && r.getNeuron().getNeuron() == 123).findFirst().orElseThrow();
        Path model = DefaultModel.folder();
        try (Gpt2Model gpt2 = Gpt2Model.load(model); Gpt2Tokenizer tokenizer = Gpt2Tokenizer.forModel(model, null)) {
            for (ActivationWindow w : List.of(sample.getExplanationWindows().get(0), sample.getScoringRandomWindows().get(0))) {
                int[] ids = w.getTokenIds().stream().mapToInt(Integer::intValue).toArray();
                float[] acts = gpt2.mlpActivations(new int[][] {ids}, new int[] {5})[0];
                for (int t = 0; t < 64; t++) {
                    assertEquals(acts[t * 512 + 123], w.getActivations().get(t), 1e-4, "token " + t);
                    assertEquals(tokenizer.tokenText(ids[t]), w.getTokens().get(t));
                }
            }
        }

        List<CheckpointRun> runs = runsOf("demo-gpt2");
        // Emitted in transactions of 256 (the first 4,096 records), each with a RUNNING record of the neurons committed so far.
        assertEquals(List.of(RunState.STARTED, RunState.RUNNING, RunState.RUNNING, RunState.RUNNING, RunState.RUNNING,
                RunState.COMPLETED), runs.stream().map(CheckpointRun::getState).toList());
        assertEquals(List.of(256L, 512L, 768L, 1024L), runs.subList(1, 5).stream().map(CheckpointRun::getNeuronsEmitted).toList());
        CheckpointRun done = runs.get(runs.size() - 1);
        assertEquals("final", done.getCheckpoint());
        assertEquals("europarl-en", done.getCorpus());
        assertEquals(40, done.getWindows());
        assertEquals(40 * 64, done.getTokens());
        assertEquals(1024, done.getNeuronsEmitted());
    }

    @Test
    void theSameRunTwiceIsSkippedUnlessForced() {
        String[] args = {"--model-name", "demo-twice", "--neurons", "0:0-4", "--windows", "20"};
        String[] first = produce(args);
        assertEquals("0", first[0], first[2]);
        assertTrue(first[1].contains("neurons emitted: 5"), first[1]);
        String runId = first[1].lines().findFirst().orElseThrow().split(" ")[1].replace(":", "");
        assertTrue(runId.startsWith("run-"), first[1]);

        String[] again = produce(args);
        assertEquals("0", again[0], again[2]);
        assertTrue(again[1].contains("run " + runId + ": demo-twice / final over europarl-en already COMPLETED"), again[1]);
        assertEquals(5, activationsOf("demo-twice").size());
        assertEquals(2, runsOf("demo-twice").size(), "no STARTED record for a skipped run");

        // Another window budget is another run (other samples): it is not skipped.
        String[] other = produce("--model-name", "demo-twice", "--neurons", "0:0-4", "--windows", "24");
        assertTrue(other[1].contains("neurons emitted: 5"), other[1]);
        assertTrue(!other[1].contains(runId), other[1]);

        java.util.List<String> forced = new java.util.ArrayList<>(java.util.List.of(args));
        forced.add("--force");
        String[] force = produce(forced.toArray(String[]::new));
        assertEquals("0", force[0], force[2]);
        assertTrue(force[1].startsWith("run " + runId + ":"), "the same identity, run again: " + force[1]);
        assertTrue(force[1].contains("neurons emitted: 5"), force[1]);
    }

    @Test
    void badCorporaFailInOneLineAndEmitNothing() throws IOException {
        Path empty = dir.resolve("empty.jsonl");
        Files.writeString(empty, "{\"text\": \"far too short for a window\"}\n");
        String[] result = produce("--model-name", "demo-empty", "--corpus", empty.toString(), "--layers", "0");
        assertEquals("1", result[0]);
        assertTrue(result[2].contains("error: corpus empty.jsonl: empty, no window of 64 tokens (1 documents read, none that long)"),
                result[2]);

        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"txt\": \"wrong field\"}\n");
        result = produce("--model-name", "demo-empty", "--corpus", bad.toString(), "--layers", "0");
        assertEquals("1", result[0]);
        assertTrue(result[2].contains("error: " + bad + ":1: no string \"text\" field"), result[2]);

        result = produce("--model-name", "demo-empty", "--corpus", dir.resolve("missing").toString());
        assertEquals("1", result[0]);
        assertTrue(result[2].contains("error: corpus " + dir.resolve("missing") + ": no such file or directory"), result[2]);

        assertEquals(List.of(), activationsOf("demo-empty"));
        assertEquals(List.of(), runsOf("demo-empty"));
    }
}
