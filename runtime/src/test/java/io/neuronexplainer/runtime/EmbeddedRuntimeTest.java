package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded runtime: a real broker and registry that carry transactions and exactly-once Streams. */
class EmbeddedRuntimeTest {

    @Test
    void transactionsAndExactlyOnceStreamsWorkAndDataSurvivesARestart(@TempDir Path dir) throws Exception {
        try (EmbeddedRuntime runtime = EmbeddedRuntime.start(dir, 0, 0)) {
            KafkaClients clients = new KafkaClients(runtime.bootstrapServers(), runtime.registryUrl());
            assertTrue(clients.registry().subjects().isEmpty());
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 2, (short) 1, 30_000);
                // Request threads sized to this machine, not Kafka's server defaults (8 and 3).
                var broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
                var config = admin.describeConfigs(List.of(broker)).all().get().get(broker);
                int cores = Runtime.getRuntime().availableProcessors();
                assertEquals(Integer.toString(EmbeddedKafka.ioThreads(cores)), config.get("num.io.threads").value());
                assertEquals(Integer.toString(EmbeddedKafka.networkThreads(cores)), config.get("num.network.threads").value());
            }
            try (var producer = new KafkaProducer<>(clients.producer("embedded-test-tx"), new StringSerializer(), new StringSerializer())) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(Topics.NEURON_EXPLANATIONS, "k1", "committed"));
                producer.commitTransaction();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(Topics.NEURON_EXPLANATIONS, "k2", "aborted"));
                producer.abortTransaction();
            }
            // A Streams app with exactly_once_v2 must reach RUNNING and copy the committed record.
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "embedded-eos-test");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, runtime.bootstrapServers());
            props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
            props.put(StreamsConfig.STATE_DIR_CONFIG, dir.resolve("streams").toString());
            props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
            StreamsBuilder builder = new StreamsBuilder();
            builder.stream(Topics.NEURON_EXPLANATIONS, org.apache.kafka.streams.kstream.Consumed.with(Serdes.String(), Serdes.String()))
                    .mapValues(v -> v.toUpperCase())
                    .to(Topics.SIMULATION_REQUESTS, org.apache.kafka.streams.kstream.Produced.with(Serdes.String(), Serdes.String()));
            try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
                streams.start();
                List<String> out = read(clients, Topics.SIMULATION_REQUESTS, 1, Duration.ofSeconds(60));
                assertEquals(List.of("COMMITTED"), out);
                assertEquals(KafkaStreams.State.RUNNING, streams.state());
            }
        }
        assertTrue(Files.exists(dir.resolve("kafka/log/meta.properties")));
        // Restart on the same folder: the broker's data is still there, no re-format.
        try (EmbeddedRuntime runtime = EmbeddedRuntime.start(dir, 0, 0)) {
            KafkaClients clients = new KafkaClients(runtime.bootstrapServers(), runtime.registryUrl());
            assertEquals(List.of("committed"), read(clients, Topics.NEURON_EXPLANATIONS, 1, Duration.ofSeconds(30)));
        }
    }

    @Test
    void requestThreadsFollowTheCoresWithinKafkasDefaults() {
        assertEquals(2, EmbeddedKafka.ioThreads(1));
        assertEquals(2, EmbeddedKafka.ioThreads(2));
        assertEquals(8, EmbeddedKafka.ioThreads(32));
        assertEquals(1, EmbeddedKafka.networkThreads(2));
        assertEquals(2, EmbeddedKafka.networkThreads(4));
        assertEquals(3, EmbeddedKafka.networkThreads(32));
    }

    static List<String> read(KafkaClients clients, String topic, int expected, Duration timeout) {
        List<String> out = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(clients.consumer("read-" + System.nanoTime()), new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.value()));
            }
            consumer.poll(Duration.ofMillis(500)).forEach(r -> out.add(r.value()));
        }
        return out;
    }
}
