package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.CommittedRecords;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.worker.TransactionalWorker;
import io.neuronexplainer.runtime.worker.WorkerSummary;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * The same SimulationRequests delivered again, to a new instance of the group after the first
 * stopped: one Simulation per request identity, and the second instance simulates nothing.
 */
class SimulatorIdempotenceTest {
    static final List<Integer> NEURONS = List.of(0, 1, 3, 4); // the test simulator misshapes neuron 2

    @Test
    void theSameRequestsDeliveredAgainAreSimulatedOnce() throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 3, (short) 1, 30_000);
            }
            send(clients);
            WorkerSummary first = runUntilDone(clients, new SimpleMeterRegistry());
            assertEquals(0, first.duplicatesSkipped(), first.line());

            send(clients);
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            WorkerSummary second = runUntilDone(clients, meters);
            assertEquals(NEURONS.size(), second.duplicatesSkipped(), second.line());
            assertEquals(NEURONS.size(), meters.get("worker.duplicates.skipped").tag("stage", SimulatorWorker.STAGE).counter().count());
            assertEquals(0, meters.get("worker.process.latency").tag("outcome", "ok").timer().count(), "nothing simulated again");

            var simulations = CommittedRecords.read(clients, Topics.NEURON_SIMULATIONS, AvroDeserializer.of(clients.registry(), NeuronKey.class),
                    AvroDeserializer.of(clients.registry(), Simulation.class), NEURONS.size(), Duration.ofSeconds(30));
            Map<String, Long> perExplanation = simulations.stream()
                    .collect(Collectors.groupingBy(r -> r.value().getExplanationId(), Collectors.counting()));
            assertEquals(NEURONS.size(), perExplanation.size());
            assertTrue(perExplanation.values().stream().allMatch(n -> n == 1), "one simulation per request identity: " + perExplanation);
            simulations.forEach(r -> assertEquals("run-1", r.value().getRunId(), "the run id is carried from the request"));
        }
    }

    /** One worker of the group, from start until it has committed every request sent so far. */
    private static WorkerSummary runUntilDone(KafkaClients clients, SimpleMeterRegistry meters) throws Exception {
        TransactionalWorker<NeuronKey, SimulationRequest> worker = SimulatorWorker.create(clients, SimulatorWorker.settings(8),
                new SimulatorWorkerTest.TestSimulator(), meters);
        CompletableFuture<WorkerSummary> run = CompletableFuture.supplyAsync(worker::run);
        long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
        while (worker.done() < NEURONS.size()) {
            assertTrue(System.nanoTime() < deadline, "the worker committed only " + worker.done() + " records");
            Thread.sleep(50);
        }
        worker.stop();
        return run.get(30, TimeUnit.SECONDS);
    }

    private static void send(KafkaClients clients) throws Exception {
        try (var producer = new KafkaProducer<>(clients.producer(null), new AvroSerializer<NeuronKey>(clients.registry(), true),
                new AvroSerializer<SimulationRequest>(clients.registry(), false))) {
            for (int n : NEURONS) {
                NeuronKey key = SampleRecords.key(2, n);
                producer.send(new ProducerRecord<>(Topics.SIMULATION_REQUESTS, key, SampleRecords.simulationRequest(key)));
            }
            producer.flush();
        }
    }
}
