package io.neuronexplainer.explainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.FreePort;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.CommittedRecords;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.test.TestRegistry;
import io.neuronexplainer.runtime.worker.FaultTiming;
import io.neuronexplainer.runtime.worker.WorkerSummary;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Topics;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * A registry the worker cannot reach while it decodes its input is nobody's fault: the good
 * records wait and are explained once it answers, never dead-lettered; bytes that are no record
 * at all are still dead-lettered. The registry is the real one, behind a network path that opens
 * after a few seconds.
 */
class RegistryOutageTest {
    @Test
    void recordsThatCannotBeDecodedForWantOfTheRegistryWaitForItWhileUndecodableBytesAreDeadLettered() throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 6, (short) 1, 30_000);
            }
            byte[] poison = "not avro at all".getBytes(StandardCharsets.UTF_8);
            var keys = new AvroSerializer<ActivationsKey>(clients.registry(), true);
            var values = new AvroSerializer<NeuronActivations>(clients.registry(), false);
            try (var producer = new KafkaProducer<>(clients.producer(null), new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int n = 0; n < 4; n++) {
                    if (n == 2) {
                        producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, 0, keys.serialize(Topics.NEURON_ACTIVATIONS,
                                SampleRecords.activationsKey(SampleRecords.key(0, 99))), poison));
                    }
                    NeuronActivations neuron = SampleRecords.activations(SampleRecords.key(0, n));
                    producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, 0, keys.serialize(Topics.NEURON_ACTIVATIONS,
                            Identities.activationsKey(neuron)), values.serialize(Topics.NEURON_ACTIVATIONS, neuron)));
                }
            }
            // The worker's registry URL: the real registry's, through a port where nothing listens yet.
            URI real = URI.create(TestRegistry.url());
            int port = FreePort.find();
            String unreachable = "http://127.0.0.1:" + port + real.getPath();
            KafkaClients workerClients = new KafkaClients(kafka.bootstrapServers(), unreachable);
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            FaultTiming timing = new FaultTiming(Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofMillis(300), Duration.ofSeconds(1));
            var worker = ExplainerWorker.create(workerClients, ExplainerWorker.settings(4).withFaultTiming(timing),
                    new TestExplainer(5, Set.of()), meters);
            var run = ExplainerWorkerTest.runInBackground(worker);

            long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            while (retries(meters) < 10) {
                assertTrue(System.nanoTime() < deadline, "the records were not tried again: " + retries(meters));
                Thread.sleep(100);
            }
            Thread.sleep(1000);
            assertEquals(0, worker.done(), "nothing committed while the registry is unreachable");
            assertEquals(0, worker.deadLetters());

            try (TcpForwarder path = TcpForwarder.start(port, real.getHost(), real.getPort())) {
                var explanations = CommittedRecords.read(clients, Topics.NEURON_EXPLANATIONS,
                        AvroDeserializer.of(clients.registry(), NeuronKey.class), AvroDeserializer.of(clients.registry(), Explanation.class),
                        4, Duration.ofSeconds(40));
                var letters = CommittedRecords.read(clients, Topics.deadLetter(Topics.NEURON_ACTIVATIONS), new ByteArrayDeserializer(),
                        AvroDeserializer.of(clients.registry(), DeadLetter.class), 1, Duration.ofSeconds(20));
                worker.stop();
                WorkerSummary summary = run.get(30, TimeUnit.SECONDS);

                assertEquals(List.of(0, 1, 2, 3), explanations.stream().map(r -> r.key().getNeuron()).sorted().toList(),
                        "every good record explained once, none dead-lettered for the outage");
                assertEquals(1, letters.size(), "only the bytes that are no record");
                DeadLetter letter = letters.get(0).value();
                assertEquals(2L, letter.getSourceOffset());
                assertArrayEquals(poison, bytes(letter.getValue()));
                assertTrue(letter.getErrorMessage().contains("wire format"), letter.getErrorMessage());
                assertEquals(5, summary.done());
                assertEquals(1, summary.deadLetters());
            }
        }
    }

    private static double retries(SimpleMeterRegistry meters) {
        var counter = meters.find("worker.retries").tag("reason", "registry_unreachable").counter();
        return counter == null ? 0 : counter.count();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] b = new byte[buffer.remaining()];
        buffer.duplicate().get(b);
        return b;
    }
}
