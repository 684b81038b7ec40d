package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.test.TestRegistry;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.RegistryClient;
import io.neuronexplainer.schemas.SchemaRegistryException;
import io.neuronexplainer.runtime.test.SampleRecords;
import java.time.Duration;
import org.apache.kafka.common.errors.SerializationException;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.Explanation;
import org.junit.jupiter.api.Test;

/** A wrong registry URL or a broker that dies gives one clear error, within a bounded time. */
class FailureModesTest {

    @Test
    void wrongRegistryUrlIsOneClearLine() {
        String dead = "http://127.0.0.1:" + FreePort.find() + "/apis/ccompat/v7";
        RegistryClient registry = new RegistryClient(dead, Duration.ofSeconds(3));
        long start = System.nanoTime();
        var e = assertThrows(SchemaRegistryException.class,
                () -> new AvroSerializer<>(registry, false).serialize("t", SampleRecords.explanation(SampleRecords.key(0, 0))));
        assertTrue(e.getMessage().contains(dead) && e.getMessage().contains("unreachable"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(10).toNanos());
    }

    @Test
    void registryUrlWithoutTheCompatibleApiIsNamed() {
        // The registry's root, not its Confluent-compatible API: the answer is not what we expect.
        String root = TestRegistry.url().replace("/apis/ccompat/v7", "");
        var e = assertThrows(SchemaRegistryException.class, () -> new RegistryClient(root, Duration.ofSeconds(5)).subjects());
        assertTrue(e.getMessage().contains(root), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    // A broker that was never there: BrokerCommandTest.deadBrokerIsOneErrorLineAndExitCode1 checks the
    // same bounded wait through the command line, with the exact line a user sees.

    @Test
    void brokerKilledMidRunIsReportedNotAwaitedForever() {
        TestKafka kafka = TestKafka.start(1);
        ConnectionOptions options = ConnectionOptions.cluster(kafka.bootstrapServers(), TestRegistry.url());
        try (Connection connection = assertDoesNotThrowOpen(options)) {
            kafka.close();
            long start = System.nanoTime();
            var e = assertThrows(KafkaClients.UnreachableException.class, options::open);
            assertTrue(e.getMessage().contains(kafka.bootstrapServers()), e.getMessage());
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(25).toNanos());
        }
    }

    @Test
    void bytesNotInWireFormatAreNamed() {
        var reader = AvroDeserializer.of(new RegistryClient(TestRegistry.url(), Duration.ofSeconds(5)), Explanation.class);
        var e = assertThrows(SerializationException.class, () -> reader.deserialize("neuron-explanations", "hello".getBytes()));
        assertTrue(e.getMessage().contains("neuron-explanations") && e.getMessage().contains("wire format"), e.getMessage());
    }

    private static Connection assertDoesNotThrowOpen(ConnectionOptions options) {
        try {
            return options.open();
        } catch (Exception e) {
            throw new AssertionError("cannot connect to a live cluster: " + e.getMessage(), e);
        }
    }
}
