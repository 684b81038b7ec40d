package io.neuronexplainer.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.producer.corpus.Document;
import io.neuronexplainer.producer.corpus.DocumentReader;
import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.producer.model.TextTokenizer;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.TopicSnapshot;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.RunState;
import io.neuronexplainer.schemas.Topics;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The producer service against a real KRaft broker and the real schema registry, with the synthetic model. */
class ActivationProducerTest {
    static TestKafka kafka;
    static KafkaClients clients;

    @BeforeAll
    static void start() throws Exception {
        kafka = TestKafka.start(1);
        clients = kafka.clients();
        try (Admin admin = Admin.create(clients.admin())) {
            Topics.create(admin, 3, (short) 1, 30_000);
        }
    }

    @AfterAll
    static void stop() {
        kafka.close();
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
    void emitsOneRecordPerNeuronAndACompletedRun() throws IOException {
        SyntheticModel model = new SyntheticModel(3, 16);
        CorpusPass pass = new CorpusPass(model, new CharTokenizer(), new int[] {0, 2}, SamplingSettings.defaults(), TestCorpus.FINGERPRINT, 8);
        RunIdentity run = new RunIdentity("synthetic-ok", "step-1", "generated", "run-ok");
        ProduceSummary summary;
        try (WindowCutter cutter = new WindowCutter(TestCorpus.documents(80, 9), new CharTokenizer(), 64, 50)) {
            summary = new ActivationProducer(clients).produce(run, pass, cutter, ProgressReporter.logLines());
        }
        assertEquals(32, summary.neuronsEmitted());
        assertEquals(50, summary.pass().windows());

        List<NeuronActivations> records = activationsOf("synthetic-ok");
        assertEquals(32, records.size());
        // Each on the partition of its neuron's simulations (placed by the emission, not the partitioner).
        var neuronKeys = new io.neuronexplainer.schemas.AvroSerializer<NeuronKey>(clients.registry(), true);
        for (var r : TopicSnapshot.read(clients, Topics.NEURON_ACTIVATIONS, ActivationsKey.class, NeuronActivations.class)) {
            if (r.key().getNeuron().getModel().equals("synthetic-ok")) {
                assertEquals(io.neuronexplainer.schemas.NeuronPartitioner.of(
                        neuronKeys.serialize(Topics.NEURON_SIMULATIONS, r.key().getNeuron()), 3), r.partition());
            }
        }
        Set<String> keys = new HashSet<>();
        for (NeuronActivations r : records) {
            assertTrue(keys.add(r.getNeuron().getLayer() + "/" + r.getNeuron().getNeuron()), "one record per neuron");
            assertEquals("step-1", r.getNeuron().getCheckpoint());
            assertEquals(5, r.getExplanationWindows().size());
            assertEquals(5, r.getScoringTopWindows().size());
            assertEquals(5, r.getScoringRandomWindows().size());
            Set<Long> seen = new HashSet<>();
            for (ActivationWindow w : CorpusPassTest.all(r)) {
                assertEquals(64, w.getTokens().size());
                assertEquals(64, w.getActivations().size());
                assertTrue(seen.add(w.getWindowIndex()), "explanation, scoring top and random windows disjoint");
            }
            assertSortedByMax(r.getExplanationWindows());
            assertSortedByMax(r.getScoringTopWindows());
            assertTrue(r.getExplanationWindows().get(0).getMaxActivation() >= r.getScoringTopWindows().get(0).getMaxActivation());
            assertEquals(r.getExplanationWindows().get(0).getMaxActivation(), r.getStats().getMaxActivation());
            assertEquals("run-ok", r.getRun().getRunId());
            assertEquals(50, r.getStats().getWindowsSeen());
        }
        assertEquals(Set.of("0", "2"), keys.stream().map(k -> k.split("/")[0]).collect(java.util.stream.Collectors.toSet()));

        List<CheckpointRun> runs = runsOf("synthetic-ok");
        assertEquals(List.of(RunState.STARTED, RunState.COMPLETED), runs.stream().map(CheckpointRun::getState).toList());
        CheckpointRun done = runs.get(1);
        assertEquals(32, done.getNeuronsEmitted());
        assertEquals(32, done.getNeuronsTotal());
        assertEquals(2, done.getLayers());
        assertEquals(50, done.getWindows());
        assertEquals(50 * 64, done.getTokens());
        assertNull(done.getMessage());
    }

    @Test
    void runningRecordsReportProgressDuringThePass() throws IOException {
        SyntheticModel model = new SyntheticModel(1, 4);
        CorpusPass pass = new CorpusPass(model, new CharTokenizer(), new int[] {0}, SamplingSettings.defaults(), TestCorpus.FINGERPRINT, 8);
        RunIdentity run = new RunIdentity("synthetic-running", "step-7", "generated", "run-running");
        try (WindowCutter cutter = new WindowCutter(TestCorpus.documents(80, 9), new CharTokenizer(), 64, 40)) {
            new ActivationProducer(clients, java.time.Duration.ZERO).produce(run, pass, cutter, PassProgress.NONE, null,
                    new ActivationProducer.RunDetails(7L, "0", 40));
        }
        List<CheckpointRun> runs = runsOf("synthetic-running");
        assertEquals(RunState.STARTED, runs.get(0).getState());
        assertEquals(RunState.COMPLETED, runs.get(runs.size() - 1).getState());
        List<CheckpointRun> running = runs.stream().filter(r -> r.getState() == RunState.RUNNING).toList();
        assertTrue(running.size() >= 3, "a RUNNING record per batch with a zero interval: " + runs);
        long last = 0;
        for (CheckpointRun r : running) {
            assertTrue(r.getWindows() > last, "windows done grow: " + running);
            last = r.getWindows();
            assertEquals(40L, r.getWindowsTotal());
            assertEquals(7L, r.getStep());
            assertEquals("0", r.getNeurons());
            assertEquals("run-running", r.getRunId());
        }
        assertTrue(last <= 40);
        assertEquals(7L, runs.get(runs.size() - 1).getStep());
    }

    @Test
    void aPassFailingAfterItStartedSaysFailedAfterItsProgress() throws IOException {
        // The run's records are written on a thread of their own: the FAILED record still comes
        // after every record the pass wrote before it failed.
        SyntheticModel failing = beforeBatch(2, () -> {
            throw new IllegalStateException("simulated failure in the third batch");
        });
        RunIdentity run = new RunIdentity("synthetic-pass-fails", "final", "generated", "run-pass-fails");
        ActivationProducer producer = new ActivationProducer(clients, java.time.Duration.ZERO);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> passOverSmallCorpus(producer, run, smallPass(failing, new CharTokenizer())));
        assertEquals("simulated failure in the third batch", e.getMessage());
        List<RunState> states = runsOf("synthetic-pass-fails").stream().map(CheckpointRun::getState).toList();
        assertEquals(List.of(RunState.STARTED, RunState.RUNNING, RunState.RUNNING, RunState.FAILED), states,
                "a RUNNING record after each of the two batches done, then FAILED");
    }

    @Test
    void runRecordsThatCannotBeWrittenFailThePass() throws IOException {
        // Nothing listens at the bootstrap address: the run's producer cannot open, which the pass,
        // not waiting for it, must still end with rather than return a result no record announced.
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        KafkaClients unreachable = new KafkaClients("127.0.0.1:" + closedPort, clients.registryUrl(),
                java.util.Map.of("max.block.ms", "1500"));
        RunIdentity run = new RunIdentity("synthetic-no-broker", "final", "generated", "run-no-broker");
        org.apache.kafka.common.errors.TimeoutException e = assertThrows(org.apache.kafka.common.errors.TimeoutException.class,
                () -> passOverSmallCorpus(new ActivationProducer(unreachable), run,
                        smallPass(new SyntheticModel(2, 8), new CharTokenizer())));
        assertTrue(e.getMessage().contains("1500"), "says what timed out: " + e.getMessage());
    }

    @Test
    void anInterruptedPassStopsAtItsNextBatchAndSaysFailed() throws IOException {
        // A follower cancels a pass by interrupting its thread: the pass must stop there, though no
        // Kafka call runs on that thread any more, and its run still says FAILED.
        // As Future.cancel(true) does, mid-batch.
        SyntheticModel interrupting = beforeBatch(1, () -> Thread.currentThread().interrupt());
        RunIdentity run = new RunIdentity("synthetic-interrupted-pass", "final", "generated", "run-interrupted-pass");
        ActivationProducer producer = new ActivationProducer(clients, java.time.Duration.ZERO);
        try {
            assertThrows(org.apache.kafka.common.errors.InterruptException.class,
                    () -> passOverSmallCorpus(producer, run, smallPass(interrupting, new CharTokenizer())));
            assertEquals(2, interrupting.calls(), "no batch runs after the interrupted one");
        } finally {
            assertTrue(Thread.interrupted(), "the thread stays interrupted for its owner to see");
        }
        List<CheckpointRun> runs = runsOf("synthetic-interrupted-pass");
        assertEquals(List.of(RunState.STARTED, RunState.RUNNING, RunState.FAILED),
                runs.stream().map(CheckpointRun::getState).toList());
        assertEquals("the pass was interrupted", runs.get(2).getMessage());
    }

    @Test
    void aResumedEmissionWritesOnlyWhatWasNotCommitted() throws Exception {
        SyntheticModel model = new SyntheticModel(2, 16);
        RunIdentity run = new RunIdentity("synthetic-resume", "final", "generated", "run-resume");
        CorpusPass pass = new CorpusPass(model, new CharTokenizer(), new int[] {0, 1}, SamplingSettings.defaults(), TestCorpus.FINGERPRINT, 8);
        ActivationProducer producer = new ActivationProducer(clients);
        PassResult result;
        try (WindowCutter cutter = new WindowCutter(TestCorpus.documents(80, 9), new CharTokenizer(), 64, 40)) {
            result = producer.pass(run, ActivationProducer.RunDetails.NONE, pass, cutter, PassProgress.NONE, null,
                    PassSnapshots.NONE, null);
        }
        // An earlier emission of the same neurons failed after committing 12 records; one of other neurons after 20.
        CheckpointRun failed = CheckpointRun.newBuilder().setModel("synthetic-resume").setCheckpoint("final")
                .setCorpus("generated").setRunId("run-resume").setState(RunState.FAILED).setLayers(2).setNeuronsTotal(32L)
                .setNeuronsEmitted(12L).setWindows(40L).setTokens(0L).setNeurons("").setMessage("broker gone")
                .setStartedAt(java.time.Instant.now()).setUpdatedAt(java.time.Instant.now()).build();
        try (var writer = new org.apache.kafka.clients.producer.KafkaProducer<org.apache.avro.specific.SpecificRecord,
                org.apache.avro.specific.SpecificRecord>(clients.producer(null),
                new io.neuronexplainer.schemas.AvroSerializer<>(clients.registry(), true),
                new io.neuronexplainer.schemas.AvroSerializer<>(clients.registry(), false))) {
            writer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.CHECKPOINT_RUNS,
                    ActivationProducer.key(run, -1), failed)).get();
        }
        ProduceSummary summary = producer.emit(run, ActivationProducer.RunDetails.NONE, pass, null, result, System.nanoTime());
        assertEquals(32, summary.neuronsEmitted());
        List<NeuronActivations> records = activationsOf("synthetic-resume");
        assertEquals(20, records.size(), "only the 20 records the failed emission had not committed");
        Set<String> expected = new HashSet<>();
        for (int n = 12; n < 16; n++) {
            expected.add("0:" + n);
        }
        for (int n = 0; n < 16; n++) {
            expected.add("1:" + n);
        }
        assertEquals(expected, records.stream().map(r -> r.getNeuron().getLayer() + ":" + r.getNeuron().getNeuron())
                .collect(java.util.stream.Collectors.toSet()), "emission order: layer 0's first 12 were committed before");
        List<CheckpointRun> runs = runsOf("synthetic-resume");
        assertEquals(RunState.COMPLETED, runs.get(runs.size() - 1).getState());
    }

    @Test
    void emptyCorpusEmitsNothing() throws IOException {
        CorpusPass pass = new CorpusPass(new SyntheticModel(1, 4), new CharTokenizer(), new int[] {0},
                SamplingSettings.defaults(), TestCorpus.FINGERPRINT, 8);
        RunIdentity run = new RunIdentity("synthetic-empty", "final", "empty.jsonl", "run-empty");
        try (WindowCutter cutter = new WindowCutter(shortDocuments(), new CharTokenizer(), 64, 0)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new ActivationProducer(clients).produce(run, pass, cutter, PassProgress.NONE));
            assertTrue(e.getMessage().startsWith("corpus empty.jsonl: empty"), e.getMessage());
        }
        assertEquals(List.of(), activationsOf("synthetic-empty"));
        assertEquals(List.of(), runsOf("synthetic-empty"));
    }

    @Test
    void aRunFailingMidwayEmitsNoNeuronRecordsAndAFailedRun() throws IOException {
        // The pass completes; the emission then fails on decoding the token texts its records show,
        // the first thing it does: no neuron record may become visible, and the run says FAILED.
        AtomicBoolean emitting = new AtomicBoolean();
        TextTokenizer failing = new EmissionTokenizer(() -> {
            if (emitting.get()) {
                throw new IllegalStateException("simulated failure in the emission");
            }
        });
        CorpusPass pass = smallPass(new SyntheticModel(2, 8), failing);
        RunIdentity run = new RunIdentity("synthetic-fail", "final", "generated", "run-fail");
        ActivationProducer producer = new ActivationProducer(clients);
        PassResult result = passOverSmallCorpus(producer, run, pass);
        emitting.set(true);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> producer.emit(run, ActivationProducer.RunDetails.NONE, pass, null, result, System.nanoTime()));
        assertEquals("simulated failure in the emission", e.getMessage());
        CheckpointRun failed = assertFailedWithNothingVisible("synthetic-fail", "simulated failure in the emission");
        assertFalse(failed.getNeuronsEmitted() > 0);
    }

    @Test
    void aFailingModelRunInTheEmissionOfATakenOverStateEmitsNothing() throws IOException {
        // A pass that takes over a finished state (as the merging producer of a group does) holds no
        // sample values, so its emission runs the model over the random sample: a failure there must
        // leave no neuron record visible and the run FAILED.
        SyntheticModel failing = new SyntheticModel(2, 8) {
            @Override
            public float[][] mlpActivations(int[][] windows, int[] layers) {
                throw new IllegalStateException("simulated failure in the sample's model run");
            }
        };
        CorpusPass ran = smallPass(new SyntheticModel(2, 8), new CharTokenizer());
        RunIdentity run = new RunIdentity("synthetic-taken-over", "final", "generated", "run-taken-over");
        ActivationProducer producer = new ActivationProducer(clients);
        PassResult result = passOverSmallCorpus(producer, run, ran);
        CorpusPass takenOver = smallPass(failing, new CharTokenizer());
        takenOver.adopt(ran.state());
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> producer.emit(run, ActivationProducer.RunDetails.NONE, takenOver, null, result, System.nanoTime()));
        assertEquals("simulated failure in the sample's model run", e.getMessage());
        assertFailedWithNothingVisible("synthetic-taken-over", "simulated failure in the sample's model run");
    }

    @Test
    void anInterruptedEmissionStillRecordsItsFailure() throws Exception {
        // The emitting thread is interrupted while it decodes its records' token texts: Kafka's
        // client refuses to work on an interrupted thread, yet the run must say FAILED.
        AtomicBoolean emitting = new AtomicBoolean();
        java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(1);
        TextTokenizer blocking = new EmissionTokenizer(() -> {
            if (emitting.get()) {
                running.countDown();
                try {
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while decoding token texts");
                }
            }
        });
        CorpusPass pass = smallPass(new SyntheticModel(2, 8), blocking);
        RunIdentity run = new RunIdentity("synthetic-interrupted", "final", "generated", "run-interrupted");
        ActivationProducer producer = new ActivationProducer(clients);
        PassResult result = passOverSmallCorpus(producer, run, pass);
        emitting.set(true);
        java.util.concurrent.atomic.AtomicReference<Throwable> thrown = new java.util.concurrent.atomic.AtomicReference<>();
        Thread emitter = new Thread(() -> {
            try {
                producer.emit(run, ActivationProducer.RunDetails.NONE, pass, null, result, System.nanoTime());
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        emitter.start();
        assertTrue(running.await(30, java.util.concurrent.TimeUnit.SECONDS), "the emission reached the tokenizer");
        emitter.interrupt();
        emitter.join(60_000);
        assertEquals("interrupted while decoding token texts", thrown.get().getMessage());
        assertFailedWithNothingVisible("synthetic-interrupted", "interrupted while decoding token texts");
    }

    /** A pass over layers 0 and 1 of {@code model} in batches of 8, its token texts decoded by {@code tokenizer}. */
    static CorpusPass smallPass(SyntheticModel model, TextTokenizer tokenizer) {
        return new CorpusPass(model, tokenizer, new int[] {0, 1}, SamplingSettings.defaults(), TestCorpus.FINGERPRINT, 8);
    }

    /** The small pass's model, running {@code action} at the start of the batch after {@code done} batches. */
    static SyntheticModel beforeBatch(int done, Runnable action) {
        return new SyntheticModel(2, 8) {
            @Override
            public float[][] mlpActivations(int[][] windows, int[] layers) {
                if (calls() == done) {
                    action.run();
                }
                return super.mlpActivations(windows, layers);
            }
        };
    }

    /** Runs {@code pass} over 30 generated documents as {@code run}, with no snapshots: the run is STARTED, nothing emitted. */
    static PassResult passOverSmallCorpus(ActivationProducer producer, RunIdentity run, CorpusPass pass) throws IOException {
        try (WindowCutter cutter = new WindowCutter(TestCorpus.documents(30, 4), new CharTokenizer(), 64, 0)) {
            return producer.pass(run, ActivationProducer.RunDetails.NONE, pass, cutter, PassProgress.NONE, null,
                    PassSnapshots.NONE, null);
        }
    }

    /** Asserts {@code model}'s run went STARTED then FAILED with {@code message}, no neuron record visible; returns the FAILED record. */
    static CheckpointRun assertFailedWithNothingVisible(String model, String message) {
        assertEquals(List.of(), activationsOf(model), "aborted: nothing partial is visible");
        List<CheckpointRun> runs = runsOf(model);
        assertEquals(List.of(RunState.STARTED, RunState.FAILED), runs.stream().map(CheckpointRun::getState).toList());
        assertEquals(message, runs.get(1).getMessage());
        return runs.get(1);
    }

    /** The test tokenizer, running {@code onBatch} first whenever many token texts are decoded at once (only the emission does). */
    static final class EmissionTokenizer implements TextTokenizer {
        private final CharTokenizer chars = new CharTokenizer();
        private final Runnable onBatch;

        EmissionTokenizer(Runnable onBatch) {
            this.onBatch = onBatch;
        }

        @Override
        public int[] encode(String text) {
            return chars.encode(text);
        }

        @Override
        public String tokenText(int id) {
            return chars.tokenText(id);
        }

        @Override
        public String[] tokenTexts(int[] ids) {
            onBatch.run();
            return chars.tokenTexts(ids);
        }

        @Override
        public void close() {}
    }

    @Test
    void transactionsGrowOnceTheFirstRecordsAreCommitted() throws IOException {
        // Transactions of 4 until 8 records are written, then of 16: RUNNING records at 4, 8, 24, 40.
        SyntheticModel model = new SyntheticModel(2, 21);
        CorpusPass pass = new CorpusPass(model, new CharTokenizer(), new int[] {0, 1}, SamplingSettings.defaults(), TestCorpus.FINGERPRINT, 8);
        RunIdentity run = new RunIdentity("synthetic-growing", "final", "generated", "run-growing");
        ActivationProducer producer = new ActivationProducer(clients, ActivationProducer.RUNNING_EVERY,
                new ActivationProducer.EmitTransactions(4, 16, 8));
        try (WindowCutter cutter = new WindowCutter(TestCorpus.documents(30, 4), new CharTokenizer(), 64, 0)) {
            assertEquals(42, producer.produce(run, pass, cutter, PassProgress.NONE).neuronsEmitted());
        }
        assertEquals(42, activationsOf("synthetic-growing").size());
        List<CheckpointRun> runs = runsOf("synthetic-growing");
        assertEquals(List.of(4L, 8L, 24L, 40L), runs.stream().filter(r -> r.getState() == RunState.RUNNING)
                .map(CheckpointRun::getNeuronsEmitted).toList());
        assertEquals(RunState.COMPLETED, runs.get(runs.size() - 1).getState());
        assertEquals(42, runs.get(runs.size() - 1).getNeuronsEmitted());
    }

    private static DocumentReader shortDocuments() {
        return new DocumentReader() {
            int left = 3;

            @Override
            public Document next() {
                return left-- > 0 ? new Document("short", "too short") : null;
            }

            @Override
            public double fractionRead() {
                return Double.NaN;
            }

            @Override
            public void close() {}
        };
    }

    private static void assertSortedByMax(List<ActivationWindow> windows) {
        for (int i = 1; i < windows.size(); i++) {
            assertTrue(windows.get(i - 1).getMaxActivation() >= windows.get(i).getMaxActivation(), "sorted by max");
        }
    }
}
