package io.neuronexplainer.explainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.llm.test.OpenAiTestServer;
import io.neuronexplainer.llm.test.OpenAiTestServer.Reply;
import io.neuronexplainer.llm.test.OpenAiTestServer.Request;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.MetricsServer;
import io.neuronexplainer.runtime.test.CommittedRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.worker.FaultTiming;
import io.neuronexplainer.runtime.worker.WorkerSummary;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * An LLM that refuses our key (HTTP 401) would fail every neuron alike: the worker pauses instead
 * of dead-lettering the whole input, says so on /health/ready and in worker_paused, and once the
 * server answers again every neuron is explained exactly once.
 */
class LlmFaultPauseTest {
    private static final Pattern MARKER = Pattern.compile("marker(\\d+)");
    private static final int NEURONS = 6;

    private volatile boolean refusing = true;

    @Test
    void unauthorisedLlmPausesTheWorkerWhichResumesWhenTheKeyWorksAgain() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        try (OpenAiTestServer server = OpenAiTestServer.start(this::answer);
             TestKafka kafka = TestKafka.start(1);
             MetricsServer metrics = MetricsServer.start(ExplainerWorker.STAGE, "127.0.0.1", 0)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 6, (short) 1, 30_000);
            }
            try (var producer = new KafkaProducer<>(clients.producer(null), new AvroSerializer<ActivationsKey>(clients.registry(), true),
                    new AvroSerializer<NeuronActivations>(clients.registry(), false))) {
                for (int n = 1; n <= NEURONS; n++) {
                    NeuronActivations neuron = OpenAiFaultsTest.neuron(n);
                    producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, Identities.activationsKey(neuron), neuron));
                }
            }
            FaultTiming timing = new FaultTiming(Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofMillis(300), Duration.ofSeconds(1));
            try (Explainer explainer = ExplainerBackendOptions.openai(server.baseUrl(), "test-model").retries(3, 20, 5)
                    .create(new SimpleMeterRegistry())) {
                var worker = ExplainerWorker.create(clients, ExplainerWorker.settings(4).withFaultTiming(timing), explainer,
                        metrics.registry());
                worker.health().serveOn(metrics);
                String base = "http://127.0.0.1:" + metrics.port();
                var run = ExplainerWorkerTest.runInBackground(worker);

                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!worker.paused()) {
                    assertTrue(System.nanoTime() < deadline, "the worker did not pause on HTTP 401");
                    Thread.sleep(50);
                }
                // Paused for a while: probes keep meeting the 401, nothing is dead-lettered or explained.
                Thread.sleep(1500);
                assertTrue(worker.paused());
                HttpResponse<String> ready = get(http, base + "/health/ready");
                assertEquals(503, ready.statusCode(), ready.body());
                assertTrue(ready.body().contains("paused (llm_unauthorized)") && ready.body().contains("401"), ready.body());
                assertEquals(200, get(http, base + "/health/live").statusCode());
                assertEquals(1.0, pausedGauge(http, base), "worker_paused{reason=llm_unauthorized}");
                assertEquals(0, worker.deadLetters());
                assertEquals(0, worker.done());
                long refused = server.requests().size();
                assertTrue(refused > 4, "the held records were tried again while paused: " + refused + " requests");

                refusing = false;
                var explanations = CommittedRecords.read(clients, Topics.NEURON_EXPLANATIONS,
                        AvroDeserializer.of(clients.registry(), NeuronKey.class), AvroDeserializer.of(clients.registry(), Explanation.class),
                        NEURONS, Duration.ofSeconds(30));
                assertFalse(worker.paused());
                assertEquals(200, get(http, base + "/health/ready").statusCode());
                assertEquals(0.0, pausedGauge(http, base));
                var letters = CommittedRecords.read(clients, Topics.deadLetter(Topics.NEURON_ACTIVATIONS), new ByteArrayDeserializer(),
                        AvroDeserializer.of(clients.registry(), DeadLetter.class), 0, Duration.ofSeconds(1));
                worker.stop();
                WorkerSummary summary = run.get(30, TimeUnit.SECONDS);

                assertEquals(List.of(1, 2, 3, 4, 5, 6), explanations.stream().map(r -> r.key().getNeuron()).sorted().toList(),
                        "every neuron explained exactly once");
                assertEquals(0, letters.size(), "no dead letter for a fault that was the server's");
                assertEquals(NEURONS, summary.done());
                assertEquals(0, summary.deadLetters());
            }
        }
    }

    private Reply answer(Request request) {
        if (refusing) {
            return Reply.status(401, "{\"error\":{\"message\":\"Incorrect API key provided: sk-test\",\"type\":\"invalid_request_error\","
                    + "\"code\":\"invalid_api_key\"}}");
        }
        Matcher m = MARKER.matcher(request.body().toString());
        int neuron = m.find() ? Integer.parseInt(m.group(1)) : -1;
        return Reply.json(OpenAiTestServer.chatCompletion("test-model", "the word marker" + neuron + " in lists"));
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The value of worker_paused for reason llm_unauthorized in the Prometheus scrape. */
    private static double pausedGauge(HttpClient http, String base) throws Exception {
        return get(http, base + "/metrics").body().lines()
                .filter(l -> l.startsWith("worker_paused{") && l.contains("reason=\"llm_unauthorized\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElse(-1);
    }
}
