package io.neuronexplainer.explainer;

import io.neuronexplainer.runtime.test.CommittedRecords;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.worker.TransactionalWorker;
import io.neuronexplainer.runtime.worker.WorkerFencedException;
import io.neuronexplainer.runtime.worker.WorkerSettings;
import io.neuronexplainer.runtime.worker.WorkerSummary;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.schemas.WindowKind;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The explainer worker on a real broker and registry: dead letters, outputs, and scaling out. */
class ExplainerWorkerTest {
    private TestKafka kafka;
    private KafkaClients clients;

    @BeforeEach
    void start() throws Exception {
        kafka = TestKafka.start(1);
        clients = kafka.clients();
        try (Admin admin = Admin.create(clients.admin())) {
            Topics.create(admin, 6, (short) 1, 30_000);
        }
    }

    @AfterEach
    void stop() {
        kafka.close();
    }

    @Test
    void poisonRecordIsDeadLetteredWhileTheNextRecordsAreProcessed() throws Exception {
        byte[] poison = "not avro at all".getBytes(StandardCharsets.UTF_8);
        byte[] poisonKey;
        try (var producer = rawProducer()) {
            poisonKey = new AvroSerializer<ActivationsKey>(clients.registry(), true).serialize(Topics.NEURON_ACTIVATIONS, SampleRecords.activationsKey(SampleRecords.key(0, 99)));
            // All on partition 0, the poison record in the middle: the ones after it must still be explained.
            for (int n = 0; n < 5; n++) {
                if (n == 2) {
                    producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, 0, poisonKey, poison));
                }
                producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, 0, key(n), valueBytes(n)));
            }
        }
        var worker = ExplainerWorker.create(clients, ExplainerWorker.settings(4), new TestExplainer(10, Set.of()), new SimpleMeterRegistry());
        CompletableFuture<WorkerSummary> run = runInBackground(worker);

        var explanations = read(Topics.NEURON_EXPLANATIONS, Explanation.class, 5);
        var letters = readDeadLetters(1);
        worker.stop();
        WorkerSummary summary = run.get(30, TimeUnit.SECONDS);

        assertEquals(List.of(0, 1, 2, 3, 4), explanations.stream().map(r -> r.value().getNeuron().getNeuron()).sorted().toList(),
                "every valid record explained once");
        assertEquals(1, letters.size());
        DeadLetter letter = letters.get(0).value();
        assertEquals("explainer-worker", letter.getStage());
        assertEquals(Topics.NEURON_ACTIVATIONS, letter.getSourceTopic());
        assertEquals(0, letter.getSourcePartition());
        assertEquals(2L, letter.getSourceOffset());
        assertArrayEquals(poison, bytes(letter.getValue()), "the dead letter keeps the raw value");
        assertArrayEquals(poisonKey, bytes(letter.getKey()));
        assertArrayEquals(poisonKey, letters.get(0).key(), "keyed by the failed record's own key bytes");
        assertTrue(letter.getErrorClass().endsWith("SerializationException"), letter.getErrorClass());
        assertTrue(letter.getErrorMessage().contains("wire format"), letter.getErrorMessage());
        assertEquals(1, letter.getAttempts());
        assertEquals(6, summary.done());
        assertEquals(1, summary.deadLetters());
    }

    @Test
    void failedExplanationIsDeadLetteredWithItsReasonAndAttempts() throws Exception {
        try (var producer = rawProducer()) {
            for (int n = 0; n < 6; n++) {
                producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, key(n), valueBytes(n)));
            }
        }
        var worker = ExplainerWorker.create(clients, ExplainerWorker.settings(16), new TestExplainer(5, Set.of(3)), new SimpleMeterRegistry());
        CompletableFuture<WorkerSummary> run = runInBackground(worker);

        var explanations = read(Topics.NEURON_EXPLANATIONS, Explanation.class, 5);
        var requests = read(Topics.SIMULATION_REQUESTS, SimulationRequest.class, 5);
        var letters = readDeadLetters(1);
        worker.stop();
        run.get(30, TimeUnit.SECONDS);

        assertEquals(Set.of(0, 1, 2, 4, 5), neurons(explanations));
        assertEquals(5, explanations.size());
        assertEquals(1, letters.size());
        DeadLetter letter = letters.get(0).value();
        assertEquals("io.neuronexplainer.llm.LlmException", letter.getErrorClass());
        assertTrue(letter.getErrorMessage().contains("HTTP 500"), letter.getErrorMessage());
        assertEquals(TestExplainer.FAILED_ATTEMPTS, letter.getAttempts());
        NeuronActivations failed = AvroDeserializer.of(clients.registry(), NeuronActivations.class)
                .deserialize(Topics.NEURON_ACTIVATIONS, bytes(letter.getValue()));
        assertEquals(3, failed.getNeuron().getNeuron(), "the dead letter carries the failed record");

        // Each explanation has its simulation request: same id and text, the scoring windows' tokens in order.
        Map<Integer, Explanation> byNeuron = explanations.stream()
                .collect(Collectors.toMap(r -> r.value().getNeuron().getNeuron(), ConsumerRecord::value));
        assertEquals(5, requests.size());
        for (var r : requests) {
            SimulationRequest request = r.value();
            Explanation e = byNeuron.get(request.getNeuron().getNeuron());
            assertEquals(e.getExplanationId(), request.getExplanationId());
            assertEquals(e.getText(), request.getExplanationText());
            assertEquals(e.getPromptTokens(), request.getExplainerPromptTokens(), "what the explanation cost travels with it");
            assertEquals("test-fixed/test-v1", request.getExplainerMethod(), "and the method and prompt version that wrote it");
            assertEquals(r.key(), request.getNeuron());
            NeuronActivations source = SampleRecords.activations(request.getNeuron());
            List<TokenWindow> expected = new ArrayList<>();
            source.getScoringTopWindows().forEach(w -> expected.add(new TokenWindow(w.getWindowIndex(), WindowKind.TOP, w.getTokens())));
            source.getScoringRandomWindows().forEach(w -> expected.add(new TokenWindow(w.getWindowIndex(), WindowKind.RANDOM, w.getTokens())));
            assertEquals(expected, request.getWindows());
        }
        Explanation e = byNeuron.get(0);
        assertEquals("test-fixed", e.getExplainerMethod());
        assertEquals("test-v1", e.getPromptVersion());
        assertEquals(100, e.getPromptTokens());
        assertEquals(ExplanationId.of(value(0), "test-fixed", "none", "test-v1"), e.getExplanationId(),
                "the id is a function of what determines the explanation, so a replay gives the same id");
    }

    @Test
    void threeInstancesOnSixPartitionsShareTheWorkAndProcessEveryNeuronOnce() throws Exception {
        List<TransactionalWorker<ActivationsKey, NeuronActivations>> workers = new ArrayList<>();
        List<CompletableFuture<WorkerSummary>> runs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            var worker = ExplainerWorker.create(clients, ExplainerWorker.settings(4), new TestExplainer(20, Set.of()), new SimpleMeterRegistry());
            workers.add(worker);
            runs.add(runInBackground(worker));
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        while (!workers.stream().allMatch(w -> w.assignment().size() == 2)) {
            assertTrue(System.nanoTime() < deadline, "the group did not settle on 2 partitions each: "
                    + workers.stream().map(w -> w.assignment().size()).toList());
            Thread.sleep(100);
        }
        int neurons = 120;
        try (var producer = rawProducer()) {
            for (int n = 0; n < neurons; n++) {
                producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, key(n), valueBytes(n)));
            }
        }
        var explanations = read(Topics.NEURON_EXPLANATIONS, Explanation.class, neurons);
        var requests = read(Topics.SIMULATION_REQUESTS, SimulationRequest.class, neurons);
        workers.forEach(TransactionalWorker::stop);
        List<Long> done = new ArrayList<>();
        for (var run : runs) {
            done.add(run.get(30, TimeUnit.SECONDS).done());
        }

        assertEquals(neurons, explanations.size(), "exactly one explanation per neuron");
        assertEquals(neurons, neurons(explanations).size());
        assertEquals(neurons, requests.size(), "exactly one simulation request per neuron");
        assertEquals(neurons, done.stream().mapToLong(Long::longValue).sum());
        assertTrue(done.stream().allMatch(d -> d > 0), "each instance took a share: " + done);
    }

    @Test
    void anInstanceStartedWithTheSameIdFencesTheOldOneWhichStopsWithAClearReason() throws Exception {
        WorkerSettings settings = ExplainerWorker.settings(4).withInstance("pod-0", true);
        var old = ExplainerWorker.create(clients, settings, new TestExplainer(10, Set.of()), new SimpleMeterRegistry());
        CompletableFuture<WorkerSummary> oldRun = runInBackground(old);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (old.assignment().isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "the first instance got no partitions");
            Thread.sleep(50);
        }
        var successor = ExplainerWorker.create(clients, settings, new TestExplainer(10, Set.of()), new SimpleMeterRegistry());
        CompletableFuture<WorkerSummary> successorRun = runInBackground(successor);
        try (var producer = rawProducer()) {
            for (int n = 0; n < 6; n++) {
                producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, key(n), valueBytes(n)));
            }
        }
        var failure = assertThrows(ExecutionException.class, () -> oldRun.get(30, TimeUnit.SECONDS)).getCause();
        assertTrue(failure instanceof WorkerFencedException, failure.toString());
        assertTrue(failure.getMessage().contains("fenced") && failure.getMessage().contains("pod-0"), failure.getMessage());
        assertEquals(1, failure.getMessage().lines().count());
        // The successor carries on: every neuron explained exactly once.
        var explanations = read(Topics.NEURON_EXPLANATIONS, Explanation.class, 6);
        successor.stop();
        successorRun.get(30, TimeUnit.SECONDS);
        assertEquals(6, explanations.size());
        assertEquals(6, neurons(explanations).size());
    }

    static CompletableFuture<WorkerSummary> runInBackground(TransactionalWorker<?, ?> worker) {
        CompletableFuture<WorkerSummary> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                result.complete(worker.run());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "worker");
        t.setDaemon(true);
        t.start();
        return result;
    }

    private KafkaProducer<byte[], byte[]> rawProducer() {
        return new KafkaProducer<>(clients.producer(null), new ByteArraySerializer(), new ByteArraySerializer());
    }

    private byte[] key(int n) {
        return new AvroSerializer<ActivationsKey>(clients.registry(), true).serialize(Topics.NEURON_ACTIVATIONS, Identities.activationsKey(value(n)));
    }

    private byte[] valueBytes(int n) {
        return new AvroSerializer<NeuronActivations>(clients.registry(), false).serialize(Topics.NEURON_ACTIVATIONS, value(n));
    }

    private static NeuronActivations value(int n) {
        return SampleRecords.activations(SampleRecords.key(0, n));
    }

    private <T extends org.apache.avro.specific.SpecificRecord> List<ConsumerRecord<NeuronKey, T>> read(String topic, Class<T> type, int atLeast) {
        return CommittedRecords.read(clients, topic, AvroDeserializer.of(clients.registry(), NeuronKey.class),
                AvroDeserializer.of(clients.registry(), type), atLeast, Duration.ofSeconds(30));
    }

    private List<ConsumerRecord<byte[], DeadLetter>> readDeadLetters(int atLeast) {
        return CommittedRecords.read(clients, Topics.deadLetter(Topics.NEURON_ACTIVATIONS), new ByteArrayDeserializer(),
                AvroDeserializer.of(clients.registry(), DeadLetter.class), atLeast, Duration.ofSeconds(30));
    }

    private static <T extends org.apache.avro.specific.SpecificRecord> Set<Integer> neurons(List<ConsumerRecord<NeuronKey, T>> records) {
        return records.stream().map(r -> r.key().getNeuron()).collect(Collectors.toSet());
    }

    private static byte[] bytes(java.nio.ByteBuffer buffer) {
        byte[] b = new byte[buffer.remaining()];
        buffer.duplicate().get(b);
        return b;
    }
}
