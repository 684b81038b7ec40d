package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestRegistry;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * On Docker hosts only: the same topics and serde against Apache Kafka's own image, as a
 * cluster user would run it. SchemaRoundTripTest covers this with the in-JVM test kit everywhere.
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerKafkaTest {
    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.1.0");

    @Test
    void topicsAndAvroRecordsWorkOnAKafkaImage() throws Exception {
        KafkaClients clients = new KafkaClients(KAFKA.getBootstrapServers(), TestRegistry.url());
        try (Admin admin = Admin.create(clients.admin())) {
            Topics.create(admin, 3, (short) 1, 30_000);
        }
        NeuronKey key = SampleRecords.key(0, 1);
        Explanation explanation = SampleRecords.explanation(key);
        try (var producer = new KafkaProducer<>(clients.producer("container-test"),
                new AvroSerializer<NeuronKey>(clients.registry(), true), new AvroSerializer<Explanation>(clients.registry(), false))) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(Topics.NEURON_EXPLANATIONS, key, explanation));
            producer.commitTransaction();
        }
        List<ConsumerRecord<NeuronKey, Explanation>> read = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(clients.consumer("container-test"),
                AvroDeserializer.of(clients.registry(), NeuronKey.class), AvroDeserializer.of(clients.registry(), Explanation.class))) {
            consumer.subscribe(List.of(Topics.NEURON_EXPLANATIONS));
            long deadline = System.currentTimeMillis() + 30_000;
            while (read.isEmpty() && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(read::add);
            }
        }
        assertEquals(1, read.size());
        assertEquals(explanation, read.get(0).value());
    }
}
