package io.neuronexplainer.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.llm.test.OpenAiTestServer;
import io.neuronexplainer.llm.test.OpenAiTestServer.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The LLM budget against the local OpenAI-format server, over a one-second window instead of a
 * minute: the server never sees more calls or tokens in a window than the caps allow, and every
 * call still completes.
 */
class LlmBudgetTest {
    private static final Duration WINDOW = Duration.ofSeconds(1);
    /** Requests arrive a few ms after the budget starts them: windows on the server's clock are read this much shorter. */
    private static final long SLACK_MS = 100;
    /** What OpenAiTestServer.chatCompletion reports per answer: 100 prompt + 7 completion tokens. */
    private static final int TOKENS_PER_CALL = 107;

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    /** The SDK's first call loads its classes on the calling thread: done here, so timing call() measures the budget. */
    @BeforeAll
    static void warmUp() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion("test-model", "word")));
             LlmCaller caller = new LlmCaller(new LlmSettings(server.baseUrl(), "sk-test", "test-model", Duration.ofSeconds(10),
                     new RetryPolicy(1, Duration.ofMillis(10), Duration.ofMillis(10)), "warm-up"), new SimpleMeterRegistry())) {
            ask(caller).get(10, TimeUnit.SECONDS);
        }
    }

    private LlmCaller caller(OpenAiTestServer server, int attempts, int maxCalls, long maxTokens) {
        LlmSettings settings = new LlmSettings(server.baseUrl(), "sk-test", "test-model", Duration.ofSeconds(10),
                new RetryPolicy(attempts, Duration.ofMillis(10), Duration.ofMillis(40)), "simulator")
                .withBudget(maxCalls, maxTokens);
        return new LlmCaller(settings, meters, WINDOW);
    }

    private static CompletableFuture<LlmAnswer<String>> ask(LlmCaller caller) {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("test-model")
                .addUserMessage("say a word").build();
        return caller.call(client -> client.chat().completions().create(params),
                TokenUsage::of,
                c -> c.choices().get(0).message().content().orElse(""));
    }

    /** Sends {@code calls} calls at once, checks call() returned at once, and waits for every answer. */
    private static void sendAll(LlmCaller caller, int calls) throws Exception {
        List<CompletableFuture<LlmAnswer<String>>> answers = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            answers.add(ask(caller));
        }
        long returnedMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(returnedMs < 500, "call() blocked: " + calls + " calls took " + returnedMs + " ms to send");
        for (var a : answers) {
            assertEquals("word", a.get(30, TimeUnit.SECONDS).value());
        }
    }

    /** The most requests the server saw in any slice of the window's length (less the slack). */
    private static int mostInAnyWindow(OpenAiTestServer server) {
        long[] at = server.requests().stream().mapToLong(OpenAiTestServer.Request::atNanos).sorted().toArray();
        long slice = (WINDOW.toMillis() - SLACK_MS) * 1_000_000;
        int most = 0;
        for (int first = 0, last = 0; last < at.length; last++) {
            while (at[last] - at[first] >= slice) {
                first++;
            }
            most = Math.max(most, last - first + 1);
        }
        return most;
    }

    private double waits(String limit) {
        return meters.find("llm.budget.waits").tag("limit", limit).counter().count();
    }

    @Test
    void callsPerWindowNeverExceedTheCapAndNoneIsDropped() throws Exception {
        int cap = 6;
        int calls = 20;
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion("test-model", "word")));
             LlmCaller caller = caller(server, 1, cap, 0)) {
            long t0 = System.nanoTime();
            sendAll(caller, calls);
            long tookMs = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(calls, server.requests().size());
            assertEquals(cap, mostInAnyWindow(server), "requests in one window");
            // 20 calls at 6 per window start in 4 windows: the last batch no sooner than 3 windows after the first.
            assertTrue(tookMs >= 3 * WINDOW.toMillis() - SLACK_MS, "took " + tookMs + " ms");
            assertEquals(calls - cap, waits("calls"), "every call beyond the cap is held once");
            assertEquals(0, waits("tokens"));
            assertEquals(cap, meters.find("llm.budget.calls.per.minute").gauge().value());
            assertEquals(0, meters.find("llm.budget.tokens.per.minute").gauge().value());
        }
    }

    @Test
    void reportedTokensPerWindowStayWithinTheCapPlusOneCall() throws Exception {
        long cap = 500; // 4.7 answers' worth: a call starts while reported + expected in flight < 500, so 5 per window
        int calls = 12;
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion("test-model", "word"))
                .delayed(50));
             LlmCaller caller = caller(server, 1, 0, cap)) {
            sendAll(caller, calls);
            assertEquals(calls, server.requests().size());
            int most = mostInAnyWindow(server);
            // Without counting the calls in flight, all 12 would start before the first answer came.
            assertTrue(most * TOKENS_PER_CALL < cap + TOKENS_PER_CALL,
                    most + " requests (" + most * TOKENS_PER_CALL + " tokens) in one window; cap " + cap);
            assertTrue(waits("tokens") >= calls - most, "held: " + waits("tokens"));
            assertEquals(0, waits("calls"));
            assertEquals(cap, meters.find("llm.budget.tokens.per.minute").gauge().value());
        }
    }

    @Test
    void retriesGoThroughTheSameBudget() throws Exception {
        AtomicInteger n = new AtomicInteger();
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> n.incrementAndGet() <= 2
                ? Reply.status(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}")
                : Reply.json(OpenAiTestServer.chatCompletion("test-model", "word")));
             LlmCaller caller = caller(server, 3, 2, 0)) {
            LlmAnswer<String> answer = ask(caller).get(10, TimeUnit.SECONDS);
            assertEquals(3, answer.attempts());
            var requests = server.requests();
            long thirdAfterFirstMs = (requests.get(2).atNanos() - requests.get(0).atNanos()) / 1_000_000;
            // Backoff is 10-40 ms: only the budget (2 calls per window) makes the third attempt wait a window.
            assertTrue(thirdAfterFirstMs >= WINDOW.toMillis() - SLACK_MS, "third attempt after " + thirdAfterFirstMs + " ms");
            assertEquals(1, waits("calls"));
        }
    }

    @Test
    void heldCallsFailAsTransientWhenTheCallerCloses() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion("test-model", "word")))) {
            CompletableFuture<LlmAnswer<String>> second;
            try (LlmCaller caller = new LlmCaller(new LlmSettings(server.baseUrl(), "sk-test", "test-model",
                    Duration.ofSeconds(10), new RetryPolicy(1, Duration.ofMillis(10), Duration.ofMillis(10)), "simulator")
                    .withBudget(1, 0), meters, Duration.ofMinutes(1))) {
                assertEquals("word", ask(caller).get(10, TimeUnit.SECONDS).value());
                second = ask(caller);
            }
            var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> second.get(5, TimeUnit.SECONDS));
            LlmException llm = (LlmException) e.getCause();
            assertEquals(io.neuronexplainer.runtime.worker.FaultClass.TRANSIENT, llm.fault().kind());
            assertEquals(1, server.requests().size());
        }
    }

    @Test
    void negativeCapsAreOneLineErrorsNamingTheFlag() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LlmServerOptions().baseUrl("http://localhost:9/v1").budget(-1, 0).settings("m", "explainer", null));
        assertEquals("--llm-max-calls-per-minute must be >= 0 (0: no cap), got -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new LlmServerOptions().baseUrl("http://localhost:9/v1").budget(0, -5).settings("m", "explainer", null));
        assertEquals("--llm-max-tokens-per-minute must be >= 0 (0: no cap), got -5", e.getMessage());
    }
}
