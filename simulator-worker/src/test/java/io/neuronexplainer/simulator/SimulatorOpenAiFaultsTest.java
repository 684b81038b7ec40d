package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.llm.test.OpenAiTestServer;
import io.neuronexplainer.llm.test.OpenAiTestServer.Reply;
import io.neuronexplainer.llm.test.OpenAiTestServer.Request;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.CommittedRecords;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.worker.FaultTiming;
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
import io.neuronexplainer.schemas.WindowKind;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * The simulator worker with its real chat-json backend against a local OpenAI-format server that
 * misbehaves per neuron: a 429 with Retry-After then success; 500 for longer than the client's
 * attempts, then success (transient: tried again by the worker, never a dead letter); misshapen JSON every time.
 */
class SimulatorOpenAiFaultsTest {
    private static final Pattern MARKER = Pattern.compile("marker(\\d+)");
    /** The list lengths ChatJsonSimulator states in its instruction, e.g. "[3, 2]". */
    private static final Pattern SIZES = Pattern.compile("The lists have these lengths: \\[([0-9, ]*)\\]");
    private static final int ATTEMPTS = 3;

    /** Requests for neuron 1 so far: only its first is answered 429. */
    private final AtomicInteger neuron1Calls = new AtomicInteger();
    /** Requests for neuron 2 so far: its first ATTEMPTS + 2 are answered 500. */
    private final AtomicInteger neuron2Calls = new AtomicInteger();

    @Test
    void retryAfterIsHonouredServerErrorsAreWaitedOutAndMisshapenAnswersEndAsDeadLetters() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(this::answer);
             TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 6, (short) 1, 30_000);
            }
            try (var producer = new KafkaProducer<>(clients.producer(null), new AvroSerializer<NeuronKey>(clients.registry(), true),
                    new AvroSerializer<SimulationRequest>(clients.registry(), false))) {
                for (int n = 1; n <= 4; n++) {
                    SimulationRequest request = request(n);
                    producer.send(new ProducerRecord<>(Topics.SIMULATION_REQUESTS, request.getNeuron(), request));
                }
            }
            // Backoff of 20 ms: a retry of neuron 1 that waited ~1 s can only have come from Retry-After.
            try (Simulator simulator = SimulatorBackendOptions.openai(server.baseUrl(), "chat-json", "sim-model")
                    .retries(ATTEMPTS, 20, 5).create(new SimpleMeterRegistry())) {
                FaultTiming timing = new FaultTiming(Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMinutes(1));
                var worker = SimulatorWorker.create(clients, SimulatorWorker.settings(8).withFaultTiming(timing), simulator,
                        new SimpleMeterRegistry());
                CompletableFuture<WorkerSummary> run = CompletableFuture.supplyAsync(worker::run);
                var simulations = CommittedRecords.read(clients, Topics.NEURON_SIMULATIONS,
                        AvroDeserializer.of(clients.registry(), NeuronKey.class), AvroDeserializer.of(clients.registry(), Simulation.class),
                        3, Duration.ofSeconds(30));
                var letters = CommittedRecords.read(clients, Topics.deadLetter(Topics.SIMULATION_REQUESTS), new ByteArrayDeserializer(),
                        AvroDeserializer.of(clients.registry(), DeadLetter.class), 1, Duration.ofSeconds(30));
                worker.stop();
                WorkerSummary summary = run.get(30, TimeUnit.SECONDS);

                Map<Integer, List<Request>> seen = server.requests().stream()
                        .collect(Collectors.groupingBy(SimulatorOpenAiFaultsTest::neuronOf));

                // Neurons 1, 2 and 4 are simulated, once each: nothing committed for the dead-lettered one.
                assertEquals(List.of(1, 2, 4), simulations.stream().map(r -> r.key().getNeuron()).sorted().toList());
                for (var r : simulations) {
                    int n = r.key().getNeuron();
                    Simulation s = r.value();
                    SimulationRequest request = request(n);
                    assertEquals(n, s.getNeuron().getNeuron());
                    assertEquals(request.getExplanationText(), s.getExplanationText());
                    assertEquals(ChatJsonSimulator.METHOD + "/windows-per-call-all", s.getSimulatorMethod());
                    assertEquals("sim-model", s.getSimulatorModel());
                    // Usage of the one 200 answer only: the 429 carried none.
                    assertEquals(100, s.getPromptTokens());
                    List<SimulatedWindow> expected = new ArrayList<>();
                    for (TokenWindow w : request.getWindows()) {
                        expected.add(new SimulatedWindow(w.getWindowIndex(), w.getKind(), predicted(n, w.getTokens().size())));
                    }
                    assertEquals(expected, s.getWindows(), "neuron " + n + "'s own answer, one list per window");
                }

                // Neuron 1: 429 with Retry-After: 1, then 200; the retry waited as asked.
                List<Request> first = seen.get(1);
                assertEquals(2, first.size(), "one 429, then one success");
                long waitedMs = (first.get(1).atNanos() - first.get(0).atNanos()) / 1_000_000;
                assertTrue(waitedMs >= 1000, "the retry came " + waitedMs + " ms after the 429, not after its Retry-After of 1 s");
                // Neuron 4 is well answered the first time: the worker went on past the failures.
                assertEquals(1, seen.get(4).size());

                assertEquals(1, letters.size());
                AvroDeserializer<SimulationRequest> requests = AvroDeserializer.of(clients.registry(), SimulationRequest.class);
                Map<Integer, DeadLetter> byNeuron = letters.stream().map(ConsumerRecord::value).collect(Collectors.toMap(
                        l -> requests.deserialize(Topics.SIMULATION_REQUESTS, bytes(l.getValue())).getNeuron().getNeuron(), l -> l));
                assertEquals(List.of(3), byNeuron.keySet().stream().sorted().toList());
                // Neuron 2: HTTP 500 beyond the client's attempts: the worker tried it again later, no dead letter.
                assertEquals(ATTEMPTS + 3, seen.get(2).size());
                // Neuron 3: 200 with JSON one number short in the first list, every time.
                DeadLetter garbage = byNeuron.get(3);
                assertEquals(SimulatorWorker.STAGE, garbage.getStage());
                assertEquals(Topics.SIMULATION_REQUESTS, garbage.getSourceTopic());
                assertEquals(ATTEMPTS, garbage.getAttempts());
                assertEquals(ATTEMPTS, seen.get(3).size());
                assertTrue(garbage.getErrorMessage().contains("unparseable model output: list 1 has 2 numbers for 3 tokens"),
                        garbage.getErrorMessage());
                assertEquals("io.neuronexplainer.llm.LlmException", garbage.getErrorClass());

                assertEquals(Map.of(1, 2, 2, ATTEMPTS + 3, 3, ATTEMPTS, 4, 1),
                        seen.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().size())),
                        "every request named its neuron, and no neuron was asked more often than its story needs");
                assertEquals(4, summary.done());
                assertEquals(1, summary.deadLetters());
            }
        }
    }

    /** The server's behaviour, chosen by the neuron the prompt names. */
    private Reply answer(Request request) {
        int neuron = neuronOf(request);
        List<Integer> sizes = sizes(request);
        if (neuron == 1 && neuron1Calls.getAndIncrement() == 0) {
            return Reply.status(429, "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}")
                    .withHeader("Retry-After", "1");
        }
        if (neuron == 2 && neuron2Calls.getAndIncrement() < ATTEMPTS + 2) {
            return Reply.status(500, "{\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}");
        }
        if (neuron == 3) {
            // Well-formed JSON, but the first list is one number short.
            List<List<Float>> lists = new ArrayList<>();
            for (int i = 0; i < sizes.size(); i++) {
                lists.add(predicted(neuron, sizes.get(i) - (i == 0 ? 1 : 0)));
            }
            return Reply.json(OpenAiTestServer.chatCompletion("sim-model", json(lists)));
        }
        List<List<Float>> lists = new ArrayList<>();
        for (int size : sizes) {
            lists.add(predicted(neuron, size));
        }
        return Reply.json(OpenAiTestServer.chatCompletion("sim-model", json(lists)));
    }

    /** The good answer for a window of {@code size} tokens: n, n+1, ... (capped at 10), distinct per neuron. */
    private static List<Float> predicted(int neuron, int size) {
        List<Float> p = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            p.add((float) Math.min(10, neuron + i));
        }
        return p;
    }

    private static String json(List<List<Float>> lists) {
        return "{\"activations\": " + lists.stream()
                .map(l -> l.stream().map(f -> String.valueOf(f.intValue())).collect(Collectors.joining(", ", "[", "]")))
                .collect(Collectors.joining(", ", "[", "]")) + "}";
    }

    private static String prompt(Request request) {
        // The neuron's own turn, the last message, holds its explanation and windows.
        var messages = request.body().get("messages");
        return messages.get(messages.size() - 1).get("content").asText();
    }

    private static int neuronOf(Request request) {
        Matcher m = MARKER.matcher(prompt(request));
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** Window sizes as the request states them, so answers fit whatever the request holds. */
    private static List<Integer> sizes(Request request) {
        Matcher m = SIZES.matcher(prompt(request));
        if (!m.find()) {
            throw new IllegalStateException("no list lengths in the prompt");
        }
        return Pattern.compile(",\\s*").splitAsStream(m.group(1)).map(Integer::parseInt).toList();
    }

    /** The sample request with a marker in its explanation; neuron 4 has a third window, of four tokens. */
    private static SimulationRequest request(int n) {
        SimulationRequest request = SampleRecords.simulationRequest(SampleRecords.key(2, n));
        request.setExplanationText(" the word marker" + n);
        if (n == 4) {
            List<TokenWindow> windows = new ArrayList<>(request.getWindows());
            windows.add(new TokenWindow(41L, WindowKind.RANDOM, List.of(" It", " was", " a", " cat")));
            request.setWindows(windows);
        }
        return request;
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] b = new byte[buffer.remaining()];
        buffer.duplicate().get(b);
        return b;
    }
}
