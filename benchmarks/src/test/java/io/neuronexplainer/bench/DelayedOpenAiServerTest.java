package io.neuronexplainer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.explainer.Explainer;
import io.neuronexplainer.explainer.ExplainerBackendOptions;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.simulator.Simulator;
import io.neuronexplainer.simulator.SimulatorBackendOptions;
import io.neuronexplainer.simulator.SimulatorPrompt;
import io.neuronexplainer.simulator.SimulatorResult;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's fake LLM answers each simulator method in a format the real simulators (and
 * the OpenAI SDK under them) read without a retry, with the numbers it means to give.
 */
class DelayedOpenAiServerTest {
    // The fake fires on every seventh token: candidates 8/10/6/0 at .5/.25/.15/.06, else 0/1/2/3 at .85/.08/.03/.02.
    private static final double HIGH = 7.4 / 0.96;
    private static final double LOW = 0.2 / 0.98;

    private static SimulatorResult simulate(DelayedOpenAiServer server, String method) throws Exception {
        try (Simulator sim = SimulatorBackendOptions.openai(server.baseUrl(), method, "bench-simulator")
                .retries(1, 10, 10).create(new SimpleMeterRegistry())) {
            // Sample request: [" The", " cat", " sat"], [" A", " dog"].
            return sim.simulate(SampleRecords.simulationRequest(SampleRecords.key(2, 7))).get(10, TimeUnit.SECONDS);
        }
    }

    private static void assertPredictions(SimulatorResult r, double high, double low) {
        assertEquals(2, r.predicted().size());
        List<Float> first = r.predicted().get(0);
        assertEquals(3, first.size());
        assertEquals(high, first.get(0), 1e-3);
        assertEquals(low, first.get(1), 1e-3);
        assertEquals(low, first.get(2), 1e-3);
        assertEquals(2, r.predicted().get(1).size());
        assertEquals(low, r.predicted().get(1).get(1), 1e-3);
        assertTrue(r.promptTokens() > 0, "usage: " + r.promptTokens());
    }

    @Test
    void eachSimulatorMethodReadsTheAnswerAtTheFirstAttempt() throws Exception {
        try (DelayedOpenAiServer server = DelayedOpenAiServer.start(1)) {
            assertPredictions(simulate(server, "completions-echo"), HIGH, LOW);
            assertPredictions(simulate(server, "chat-logprobs"), HIGH, LOW);
            assertPredictions(simulate(server, "chat-json"), 8, 0);
            try (Explainer explainer = ExplainerBackendOptions.openai(server.baseUrl(), "bench-explainer").retries(1, 10, 10)
                    .create(new SimpleMeterRegistry())) {
                String text = explainer.explain(SampleRecords.activations(SampleRecords.key(2, 7))).get(10, TimeUnit.SECONDS).text();
                assertTrue(text.contains("animals"), text);
            }
            // With one attempt per call, any unreadable answer would have failed above; completions-echo
            // simulates each of the two windows in a call of its own (the reference's method).
            assertEquals(5, server.requests());
        }
    }

    @Test
    void echoedAnswersFromAFewShotPartFormattedOnceEqualThoseFormattedWhole() throws Exception {
        DelayedOpenAiServer cached = DelayedOpenAiServer.unbound();
        DelayedOpenAiServer whole = DelayedOpenAiServer.unboundWithoutCache();
        var request = SampleRecords.simulationRequest(SampleRecords.key(2, 7));
        // The second 7 is answered from the prefix the first stored.
        for (int neuron : new int[] {7, 8, 7}) {
            String prompt = SimulatorPrompt.of(io.neuronexplainer.schemas.SimulationRequest.newBuilder(request)
                    .setNeuron(SampleRecords.key(2, neuron)).setExplanationText("words for animals " + neuron).build()).text();
            byte[] body = ("{\"model\":\"m\",\"prompt\":" + new com.fasterxml.jackson.databind.ObjectMapper()
                    .writeValueAsString(prompt) + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            String a = cached.respond("/v1/completions", body).replaceFirst("\"created\":\\d+", "");
            String b = whole.respond("/v1/completions", body).replaceFirst("\"created\":\\d+", "");
            assertTrue(prompt.indexOf("\n\nNeuron ") > 0 && a.contains("\"unknown\"") && a.length() > prompt.length(), a);
            assertEquals(b, a);
        }
    }

    @Test
    void requestsWaitOutTheirDelayOnATimerNotOnAThreadEach() throws Exception {
        int requests = 40;
        long delayMs = 300;
        long before = fakeServerThreads();
        try (DelayedOpenAiServer server = DelayedOpenAiServer.start(delayMs)) {
            java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
            java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(server.baseUrl() + "/chat/completions"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"explain\"}]}"))
                    .build();
            List<java.util.concurrent.CompletableFuture<Long>> tookMs = new java.util.ArrayList<>();
            for (int i = 0; i < requests; i++) {
                long sent = System.nanoTime();
                tookMs.add(client.sendAsync(request, java.net.http.HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
                    assertEquals(200, r.statusCode());
                    assertTrue(r.body().contains("animals"), r.body());
                    return (System.nanoTime() - sent) / 1_000_000;
                }));
            }
            // While every request waits, the server holds a few threads, not one per request.
            Thread.sleep(delayMs / 2);
            // (Threads of an earlier test's server may still be ending: they can only lower the count.)
            long serverThreads = fakeServerThreads() - before;
            assertTrue(serverThreads <= 2L * Runtime.getRuntime().availableProcessors(),
                    serverThreads + " server threads for " + requests + " requests");
            for (var took : tookMs) {
                long ms = took.get(20, TimeUnit.SECONDS);
                assertTrue(ms >= delayMs, "answered after " + ms + " ms, before the delay of " + delayMs);
            }
            assertEquals(requests, server.requests());
        }
    }

    private static long fakeServerThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("fake-llm")).count();
    }
}
