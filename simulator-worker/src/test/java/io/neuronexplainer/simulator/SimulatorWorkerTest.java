package io.neuronexplainer.simulator;

import io.neuronexplainer.runtime.test.CommittedRecords;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.worker.WorkerSummary;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.SimulatedWindow;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import io.neuronexplainer.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/** The simulator worker on a real broker and registry: one Simulation per request, misshapen predictions dead-lettered. */
class SimulatorWorkerTest {

    /** Predicts each token's position within its window (capped at 10); one token short for neuron 2. */
    static final class TestSimulator implements Simulator {
        @Override
        public String method() {
            return "test-positions";
        }

        @Override
        public String model() {
            return "none";
        }

        @Override
        public CompletableFuture<SimulatorResult> simulate(SimulationRequest request) {
            return CompletableFuture.supplyAsync(() -> {
                List<List<Float>> predicted = new ArrayList<>();
                for (TokenWindow w : request.getWindows()) {
                    List<Float> p = new ArrayList<>();
                    int n = w.getTokens().size() - (request.getNeuron().getNeuron() == 2 ? 1 : 0);
                    for (int i = 0; i < n; i++) {
                        p.add((float) Math.min(10, i));
                    }
                    predicted.add(p);
                }
                return new SimulatorResult(predicted, 50, 3);
            }, CompletableFuture.delayedExecutor(10, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void eachRequestBecomesOneSimulationAndAMisshapenPredictionADeadLetter() throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 6, (short) 1, 30_000);
            }
            try (var producer = new KafkaProducer<>(clients.producer(null), new AvroSerializer<NeuronKey>(clients.registry(), true),
                    new AvroSerializer<SimulationRequest>(clients.registry(), false))) {
                for (int n = 0; n < 4; n++) {
                    NeuronKey key = SampleRecords.key(2, n);
                    producer.send(new ProducerRecord<>(Topics.SIMULATION_REQUESTS, key, SampleRecords.simulationRequest(key)));
                }
            }
            var worker = SimulatorWorker.create(clients, SimulatorWorker.settings(8), new TestSimulator(), new SimpleMeterRegistry());
            CompletableFuture<WorkerSummary> run = CompletableFuture.supplyAsync(worker::run);

            var simulations = CommittedRecords.read(clients, Topics.NEURON_SIMULATIONS, AvroDeserializer.of(clients.registry(), NeuronKey.class),
                    AvroDeserializer.of(clients.registry(), Simulation.class), 3, Duration.ofSeconds(30));
            var letters = CommittedRecords.read(clients, Topics.deadLetter(Topics.SIMULATION_REQUESTS), new ByteArrayDeserializer(),
                    AvroDeserializer.of(clients.registry(), DeadLetter.class), 1, Duration.ofSeconds(30));
            worker.stop();
            WorkerSummary summary = run.get(30, TimeUnit.SECONDS);

            assertEquals(List.of(0, 1, 3), simulations.stream().map(r -> r.key().getNeuron()).sorted().toList());
            for (var r : simulations) {
                Simulation s = r.value();
                SimulationRequest request = SampleRecords.simulationRequest(r.key());
                assertEquals(request.getExplanationId(), s.getExplanationId());
                assertEquals(request.getExplanationText(), s.getExplanationText());
                assertEquals("test-positions", s.getSimulatorMethod());
                assertEquals(50, s.getPromptTokens());
                assertEquals(120, s.getExplainerPromptTokens(), "the explainer's tokens are passed on to the scorer");
                assertEquals(List.of(new SimulatedWindow(11L, request.getWindows().get(0).getKind(), List.of(0f, 1f, 2f)),
                        new SimulatedWindow(40L, request.getWindows().get(1).getKind(), List.of(0f, 1f))), s.getWindows(),
                        "one window per request window, in order, with its index and kind");
            }
            assertEquals(1, letters.size());
            DeadLetter letter = letters.get(0).value();
            assertEquals("simulator-worker", letter.getStage());
            assertTrue(letter.getErrorMessage().contains("returned 2 predictions for window 0"), letter.getErrorMessage());
            SimulationRequest failed = AvroDeserializer.of(clients.registry(), SimulationRequest.class)
                    .deserialize(Topics.SIMULATION_REQUESTS, toBytes(letter.getValue()));
            assertEquals(2, failed.getNeuron().getNeuron());
            assertEquals(4, summary.done());
            assertEquals(1, summary.deadLetters());
        }
    }

    private static byte[] toBytes(java.nio.ByteBuffer buffer) {
        byte[] b = new byte[buffer.remaining()];
        buffer.duplicate().get(b);
        return b;
    }
}
