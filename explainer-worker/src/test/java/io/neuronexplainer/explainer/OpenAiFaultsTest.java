package io.neuronexplainer.explainer;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.runtime.test.CommittedRecords;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.worker.FaultTiming;
import io.neuronexplainer.runtime.worker.WorkerSummary;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.schemas.WindowKind;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * The explainer worker with its real OpenAI backend against a local OpenAI-format server that
 * misbehaves per neuron: a 429 with Retry-After then success; 500 for longer than the client's
 * attempts, then success (transient: tried again by the worker, never a dead letter); garbage every time.
 */
class OpenAiFaultsTest {
    private static final Pattern MARKER = Pattern.compile("marker(\\d+)");
    private static final int ATTEMPTS = 3;

    /** Requests seen per neuron, with their arrival times. */
    private final Map<Integer, List<Long>> seen = new ConcurrentHashMap<>();

    @Test
    void retryAfterIsHonouredServerErrorsAreWaitedOutAndGarbageEndsAsADeadLetterWithItsReason() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", this::answer);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.start();
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 6, (short) 1, 30_000);
            }
            try (var producer = new KafkaProducer<>(clients.producer(null), new AvroSerializer<ActivationsKey>(clients.registry(), true),
                    new AvroSerializer<NeuronActivations>(clients.registry(), false))) {
                for (int n = 1; n <= 3; n++) {
                    NeuronActivations neuron = neuron(n);
                    producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, Identities.activationsKey(neuron), neuron));
                }
            }
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
            try (Explainer explainer = ExplainerBackendOptions.openai(url, "test-model").retries(ATTEMPTS, 20, 5)
                    .create(new SimpleMeterRegistry())) {
                FaultTiming timing = new FaultTiming(Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMinutes(1));
                var worker = ExplainerWorker.create(clients, ExplainerWorker.settings(4).withFaultTiming(timing), explainer,
                        new SimpleMeterRegistry());
                var run = ExplainerWorkerTest.runInBackground(worker);
                var explanations = CommittedRecords.read(clients, Topics.NEURON_EXPLANATIONS,
                        AvroDeserializer.of(clients.registry(), NeuronKey.class), AvroDeserializer.of(clients.registry(), Explanation.class),
                        2, Duration.ofSeconds(30));
                var letters = CommittedRecords.read(clients, Topics.deadLetter(Topics.NEURON_ACTIVATIONS), new ByteArrayDeserializer(),
                        AvroDeserializer.of(clients.registry(), DeadLetter.class), 1, Duration.ofSeconds(30));
                worker.stop();
                WorkerSummary summary = run.get(30, TimeUnit.SECONDS);

                // Neuron 1: 429 with Retry-After: 1, then 200: explained, the retry waited as asked.
                assertEquals(List.of(1, 2), explanations.stream().map(r -> r.key().getNeuron()).sorted().toList());
                Explanation e = explanations.stream().filter(r -> r.key().getNeuron() == 1).findFirst().orElseThrow().value();
                assertEquals(1, e.getNeuron().getNeuron());
                assertEquals(" the word marker1 in lists", e.getText());
                assertEquals("test-model", e.getExplainerModel());
                List<Long> first = seen.get(1);
                assertEquals(2, first.size(), "one 429, then one success");
                assertTrue(first.get(1) - first.get(0) >= 900, "the retry came " + (first.get(1) - first.get(0))
                        + " ms after the 429, not after its Retry-After of 1 s");

                Map<Integer, DeadLetter> byNeuron = letters.stream().map(ConsumerRecord::value).collect(Collectors.toMap(
                        l -> AvroDeserializer.of(clients.registry(), NeuronActivations.class)
                                .deserialize(Topics.NEURON_ACTIVATIONS, bytes(l.getValue())).getNeuron().getNeuron(), l -> l));
                assertEquals(1, letters.size());
                // Neuron 2: HTTP 500 beyond the client's attempts: the worker tried it again later, no dead letter.
                assertEquals(List.of(3), List.copyOf(byNeuron.keySet()));
                assertEquals(ATTEMPTS + 3, seen.get(2).size(), "500 for " + (ATTEMPTS + 2) + " requests, then one success");
                // Neuron 3: 200 with an answer that is no explanation, every time.
                DeadLetter garbage = byNeuron.get(3);
                assertEquals(ATTEMPTS, garbage.getAttempts());
                assertTrue(garbage.getErrorMessage().toLowerCase().contains("empty explanation"), garbage.getErrorMessage());
                assertEquals(3, summary.done());
                assertEquals(1, summary.deadLetters());
            }
        } finally {
            server.stop(0);
        }
    }

    private void answer(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        Matcher m = MARKER.matcher(body);
        int neuron = m.find() ? Integer.parseInt(m.group(1)) : -1;
        List<Long> times = seen.computeIfAbsent(neuron, n -> new CopyOnWriteArrayList<>());
        times.add(System.nanoTime() / 1_000_000);
        if (neuron == 1 && times.size() == 1) {
            exchange.getResponseHeaders().set("Retry-After", "1");
            send(exchange, 429, "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}");
        } else if (neuron == 2 && times.size() <= ATTEMPTS + 2) {
            send(exchange, 500, "{\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}");
        } else if (neuron == 3) {
            send(exchange, 200, completion("   \\n  "));
        } else {
            send(exchange, 200, completion("the word marker" + neuron + " in lists"));
        }
    }

    private static String completion(String content) {
        return "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"test-model\",\"choices\":[{\"index\":0,"
                + "\"message\":{\"role\":\"assistant\",\"content\":\"" + content + "\"},\"finish_reason\":\"stop\",\"logprobs\":null}],"
                + "\"usage\":{\"prompt_tokens\":120,\"completion_tokens\":6,\"total_tokens\":126}}";
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** The sample record with a token naming the neuron, so the server can tell requests apart. */
    static NeuronActivations neuron(int n) {
        NeuronActivations neuron = SampleRecords.activations(SampleRecords.key(3, n));
        ActivationWindow marked = new ActivationWindow(7L, WindowKind.TOP, List.of(" The", " marker" + n, " sat"),
                List.of(383, 3797, 3332), List.of(0f, 3.5f, 0.25f), 3.5f);
        neuron.setExplanationWindows(List.of(marked, SampleRecords.window(9, WindowKind.TOP, 3.0f)));
        return neuron;
    }

    private static byte[] bytes(java.nio.ByteBuffer buffer) {
        byte[] b = new byte[buffer.remaining()];
        buffer.duplicate().get(b);
        return b;
    }
}
