package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** /metrics serves Prometheus text with JVM, Kafka client and service meters. */
class MetricsServerTest {

    @Test
    void servesPrometheusTextWithJvmKafkaAndServiceMeters() throws Exception {
        try (MetricsServer metrics = MetricsServer.start("test-service", "127.0.0.1", 0);
             var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", "127.0.0.1:1"),
                     new StringSerializer(), new StringSerializer())) {
            metrics.bind(producer);
            metrics.registry().counter("neuron_records_done").increment(3);
            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metrics.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            String body = response.body();
            assertTrue(body.contains("jvm_memory_used_bytes{"), "JVM meters");
            assertTrue(body.contains("kafka_producer_"), "Kafka client meters");
            assertTrue(body.contains("neuron_records_done_total{service=\"test-service\"} 3.0"), "our meter, tagged");
        }
    }
}
