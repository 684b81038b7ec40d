package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * Lag read from the broker: a pool with no consumer at all (never started) shows every record it
 * will have to read; once its group commits part of them the lag drops by that much.
 */
class BrokerLagTest {
    @Test
    void lagComesFromTheBrokerEvenWithNoConsumerRunning() throws Exception {
        try (TestKafka kafka = TestKafka.start(1).withTopics(2)) {
            KafkaClients clients = kafka.clients();
            TopicPartition p0 = new TopicPartition(Topics.SIMULATION_REQUESTS, 0);
            try (var producer = new KafkaProducer<>(clients.producer("lag-test"), new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.initTransactions();
                producer.beginTransaction();
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>(p0.topic(), 0, null, new byte[] {(byte) i}));
                }
                producer.commitTransaction();
                producer.beginTransaction();
                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>(p0.topic(), 1, null, new byte[] {(byte) i}));
                }
                producer.flush();
                producer.abortTransaction();
            }
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            try (BrokerLag lag = BrokerLag.start(clients, meters, Duration.ofHours(1),
                    Map.of("simulator-worker", List.of(Topics.SIMULATION_REQUESTS)))) {
                String key = "simulator-worker\u0000" + Topics.SIMULATION_REQUESTS;
                // No consumer ever ran: partition 0 holds 10 records and the commit marker (end 11), partition 1
                // 5 aborted records and the abort marker (end 6); the group must read past all of them.
                long before = lag.refresh().get(key);
                assertEquals(11 + 6, before);
                assertEquals((double) before, gauge(meters), "the gauge shows what refresh read");

                Map<String, Object> config = new HashMap<>(clients.consumer("simulator-worker"));
                try (var consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                    consumer.commitSync(Map.of(p0, new OffsetAndMetadata(4)));
                }
                Map<String, Long> after = lag.refresh();
                assertEquals(before - 4, after.get(key), "4 records committed by the group on partition 0; partition 1 still all waiting");
                assertEquals((double) after.get(key), gauge(meters));
            }
        }
    }

    private static double gauge(SimpleMeterRegistry meters) {
        return meters.get("kafka.group.lag").tag("group", "simulator-worker").tag("topic", Topics.SIMULATION_REQUESTS).gauge().value();
    }
}
