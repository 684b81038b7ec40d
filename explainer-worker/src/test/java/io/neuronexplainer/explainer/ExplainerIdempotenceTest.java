package io.neuronexplainer.explainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.CommittedRecords;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.worker.TransactionalWorker;
import io.neuronexplainer.runtime.worker.WorkerSummary;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * The same NeuronActivations delivered again (a producer re-run of the same run), to the same
 * instance while the first is in flight and to a new instance of the group after a restart:
 * one Explanation and one SimulationRequest per explanation id, and no second LLM call.
 */
class ExplainerIdempotenceTest {
    static final int NEURONS = 6;

    @Test
    void theSameActivationsDeliveredAgainAreExplainedOnce() throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 3, (short) 1, 30_000);
            }
            // Neuron 0 twice in a row: the copy arrives while the first is still being explained.
            send(clients, List.of(0, 0, 1, 2, 3, 4, 5));

            AtomicInteger calls = new AtomicInteger();
            var first = ExplainerWorker.create(clients, ExplainerWorker.settings(8), counting(new TestExplainer(200, Set.of()), calls),
                    new SimpleMeterRegistry());
            CompletableFuture<WorkerSummary> firstRun = ExplainerWorkerTest.runInBackground(first);
            await("the first worker's records", () -> first.done() >= NEURONS + 1);
            first.stop();
            WorkerSummary firstSummary = firstRun.get(30, TimeUnit.SECONDS);
            assertEquals(1, firstSummary.duplicatesSkipped(), "the in-flight copy of neuron 0: " + firstSummary.line());

            // The producer runs again over the same run; a new instance of the group reads it.
            send(clients, List.of(0, 1, 2, 3, 4, 5));
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            int callsBefore = calls.get();
            var second = ExplainerWorker.create(clients, ExplainerWorker.settings(8), counting(new TestExplainer(10, Set.of()), calls), meters);
            CompletableFuture<WorkerSummary> secondRun = ExplainerWorkerTest.runInBackground(second);
            await("the second worker's records", () -> second.done() >= NEURONS);
            second.stop();
            WorkerSummary secondSummary = secondRun.get(30, TimeUnit.SECONDS);

            assertEquals(NEURONS, secondSummary.duplicatesSkipped(), secondSummary.line());
            assertEquals(callsBefore, calls.get(), "nothing explained twice");
            assertEquals(NEURONS, meters.get("worker.duplicates.skipped").tag("stage", ExplainerWorker.STAGE).counter().count());

            var explanations = read(clients, Topics.NEURON_EXPLANATIONS, Explanation.class, NEURONS);
            var requests = read(clients, Topics.SIMULATION_REQUESTS, SimulationRequest.class, NEURONS);
            Map<String, Long> perExplanation = explanations.stream()
                    .collect(Collectors.groupingBy(r -> r.value().getExplanationId(), Collectors.counting()));
            Map<String, Long> perRequest = requests.stream()
                    .collect(Collectors.groupingBy(r -> r.value().getExplanationId(), Collectors.counting()));
            assertEquals(NEURONS, perExplanation.size());
            assertTrue(perExplanation.values().stream().allMatch(n -> n == 1), "one explanation per id: " + perExplanation);
            assertEquals(perExplanation, perRequest, "one simulation request per explanation id");
            for (var r : explanations) {
                assertEquals("run-1", r.value().getRunId(), "the run id is carried from the activations");
            }
            for (var r : requests) {
                assertEquals("run-1", r.value().getRunId());
            }
        }
    }

    /** Activations of these neurons of layer 0, in order, all of run "run-1". */
    private static void send(KafkaClients clients, List<Integer> neurons) throws Exception {
        try (var producer = new KafkaProducer<ActivationsKey, NeuronActivations>(clients.producer(null),
                new AvroSerializer<>(clients.registry(), true), new AvroSerializer<>(clients.registry(), false))) {
            for (int n : neurons) {
                NeuronKey key = SampleRecords.key(0, n);
                producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, SampleRecords.activationsKey(key), SampleRecords.activations(key)));
            }
            producer.flush();
        }
    }

    private static Explainer counting(Explainer explainer, AtomicInteger calls) {
        return new Explainer() {
            @Override
            public String method() {
                return explainer.method();
            }

            @Override
            public String model() {
                return explainer.model();
            }

            @Override
            public String promptVersion() {
                return explainer.promptVersion();
            }

            @Override
            public CompletableFuture<ExplainerResult> explain(NeuronActivations neuron) {
                calls.incrementAndGet();
                return explainer.explain(neuron);
            }
        };
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(50);
        }
    }

    private static <T extends SpecificRecord> List<ConsumerRecord<NeuronKey, T>> read(KafkaClients clients, String topic,
                                                                                    Class<T> type, int atLeast) {
        return CommittedRecords.read(clients, topic, AvroDeserializer.of(clients.registry(), NeuronKey.class),
                AvroDeserializer.of(clients.registry(), type), atLeast, Duration.ofSeconds(30));
    }
}
