package io.neuronexplainer.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.llm.test.OpenAiTestServer;
import io.neuronexplainer.llm.test.OpenAiTestServer.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class LlmCallerTest {
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

    private LlmCaller caller(OpenAiTestServer server, int attempts, Duration backoff, Duration timeout) {
        return new LlmCaller(new LlmSettings(server.baseUrl(), "sk-test", "test-model", timeout,
                new RetryPolicy(attempts, backoff, backoff.multipliedBy(4)), "explainer"), meters);
    }

    private static CompletableFuture<LlmAnswer<String>> ask(LlmCaller caller) {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("test-model")
                .addUserMessage("say a word").build();
        return caller.call(client -> client.chat().completions().create(params),
                TokenUsage::of,
                c -> {
                    String content = c.choices().get(0).message().content().orElse("");
                    if (!content.matches("[a-z]+")) {
                        throw new UnparseableOutputException("not one word: " + content);
                    }
                    return content;
                });
    }

    /** Sends {@code calls} calls at once and checks that each is answered {@code expected}. */
    private static void answerAll(LlmCaller caller, int calls, String expected) throws Exception {
        List<CompletableFuture<LlmAnswer<String>>> answers = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            answers.add(ask(caller));
        }
        for (var a : answers) {
            assertEquals(expected, a.get(30, TimeUnit.SECONDS).value());
        }
    }

    private static LlmException failure(CompletableFuture<?> f) throws Exception {
        try {
            f.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return assertInstanceOf(LlmException.class, e.getCause());
        }
        throw new AssertionError("expected the call to fail");
    }

    private double counter(String name, String tag, String value) {
        var c = meters.find(name).tag(tag, value).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void rateLimitWithRetryAfterThenSuccessWaitsAboutRetryAfter() throws Exception {
        AtomicInteger n = new AtomicInteger();
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> n.incrementAndGet() == 1
                ? Reply.status(429, "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit\"}}")
                        .withHeader("Retry-After", "1")
                : Reply.json(OpenAiTestServer.chatCompletion("test-model", "hello")));
             // Backoff of 20 s: finishing in a few seconds shows Retry-After, not backoff, set the wait.
             LlmCaller caller = caller(server, 3, Duration.ofSeconds(20), Duration.ofSeconds(10))) {
            LlmAnswer<String> answer = ask(caller).get(15, TimeUnit.SECONDS);
            assertEquals("hello", answer.value());
            assertEquals(2, answer.attempts());
            assertEquals(2, server.requests().size());
            long waitedMs = (server.requests().get(1).atNanos() - server.requests().get(0).atNanos()) / 1_000_000;
            assertTrue(waitedMs >= 950 && waitedMs < 5000, "waited " + waitedMs + " ms for Retry-After: 1");
            assertEquals(1, counter("llm.retries", "reason", "429"));
            assertEquals(100, counter("llm.tokens", "kind", "prompt"));
            assertEquals(7, counter("llm.tokens", "kind", "completion"));
            assertEquals(new TokenUsage(100, 7), answer.usage());
            assertEquals(0, meters.find("llm.calls.in.flight").gauge().value());
        }
    }

    @Test
    void retryAfterAsHttpDateIsHonoured() throws Exception {
        AtomicInteger n = new AtomicInteger();
        String inTwoSeconds = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
                .format(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(2));
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> n.incrementAndGet() == 1
                ? Reply.status(503, "{}").withHeader("Retry-After", inTwoSeconds)
                : Reply.json(OpenAiTestServer.chatCompletion("test-model", "hi")));
             LlmCaller caller = caller(server, 3, Duration.ofMillis(1), Duration.ofSeconds(10))) {
            assertEquals("hi", ask(caller).get(15, TimeUnit.SECONDS).value());
            long waitedMs = (server.requests().get(1).atNanos() - server.requests().get(0).atNanos()) / 1_000_000;
            // The date has one-second resolution: the wait is between 1 and 2 s.
            assertTrue(waitedMs >= 900 && waitedMs < 4000, "waited " + waitedMs + " ms");
        }
    }

    @Test
    void repeatedServerErrorsEndInLlmExceptionAfterMaxAttempts() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r ->
                Reply.status(500, "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}"));
             LlmCaller caller = caller(server, 3, Duration.ofMillis(10), Duration.ofSeconds(10))) {
            LlmException e = failure(ask(caller));
            assertEquals(3, e.attempts());
            assertEquals(3, server.requests().size());
            assertTrue(e.getMessage().contains("HTTP 500"), e.getMessage());
            assertTrue(e.getMessage().contains("after 3 attempts"), e.getMessage());
            assertEquals(2, counter("llm.retries", "reason", "500"));
            assertEquals(3, meters.find("llm.latency").tag("outcome", "500").timer().count());
        }
    }

    @Test
    void garbageOutputIsRetriedThenFails() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r ->
                Reply.json(OpenAiTestServer.chatCompletion("test-model", "!!! 42 ???")));
             LlmCaller caller = caller(server, 2, Duration.ofMillis(10), Duration.ofSeconds(10))) {
            LlmException e = failure(ask(caller));
            assertEquals(2, e.attempts());
            assertEquals(2, server.requests().size());
            assertTrue(e.getMessage().contains("unparseable model output"), e.getMessage());
            assertEquals(1, counter("llm.retries", "reason", "unparseable"));
            // Tokens of both answers were spent and are counted.
            assertEquals(200, counter("llm.tokens", "kind", "prompt"));
        }
    }

    @Test
    void garbageThenGoodAnswerSucceeds() throws Exception {
        AtomicInteger n = new AtomicInteger();
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> n.incrementAndGet() == 1
                ? Reply.json("this is not json")
                : Reply.json(OpenAiTestServer.chatCompletion("test-model", "fine")));
             LlmCaller caller = caller(server, 3, Duration.ofMillis(10), Duration.ofSeconds(10))) {
            LlmAnswer<String> answer = ask(caller).get(10, TimeUnit.SECONDS);
            assertEquals("fine", answer.value());
            assertEquals(2, answer.attempts());
        }
    }

    @Test
    void clientErrorsAreNotRetried() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r ->
                Reply.status(400, "{\"error\":{\"message\":\"bad model\",\"type\":\"invalid_request_error\"}}"));
             LlmCaller caller = caller(server, 5, Duration.ofMillis(10), Duration.ofSeconds(10))) {
            LlmException e = failure(ask(caller));
            assertEquals(1, e.attempts());
            assertEquals(1, server.requests().size());
            assertTrue(e.getMessage().contains("HTTP 400"), e.getMessage());
        }
    }

    @Test
    void timeoutsAreRetried() throws Exception {
        AtomicInteger n = new AtomicInteger();
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> n.incrementAndGet() == 1
                ? Reply.json(OpenAiTestServer.chatCompletion("test-model", "late")).delayed(1500)
                : Reply.json(OpenAiTestServer.chatCompletion("test-model", "prompt")));
             LlmCaller caller = caller(server, 3, Duration.ofMillis(10), Duration.ofMillis(400))) {
            LlmAnswer<String> answer = ask(caller).get(10, TimeUnit.SECONDS);
            assertEquals("prompt", answer.value());
            assertEquals(2, answer.attempts());
            assertEquals(1, counter("llm.retries", "reason", "timeout"));
        }
    }

    @Test
    void callsInFlightAreCountedAcrossCallersOfOneStage() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r ->
                Reply.json(OpenAiTestServer.chatCompletion("test-model", "ok")).delayed(300));
             LlmCaller one = caller(server, 1, Duration.ofMillis(10), Duration.ofSeconds(10));
             LlmCaller two = caller(server, 1, Duration.ofMillis(10), Duration.ofSeconds(10))) {
            // Counted when sent, before the answer: both are in flight right after call() returns.
            CompletableFuture<LlmAnswer<String>> a = ask(one);
            CompletableFuture<LlmAnswer<String>> b = ask(two);
            assertEquals(2, meters.find("llm.calls.in.flight").tag("stage", "explainer").gauge().value());
            a.get(10, TimeUnit.SECONDS);
            b.get(10, TimeUnit.SECONDS);
            assertEquals(0, meters.find("llm.calls.in.flight").tag("stage", "explainer").gauge().value());
        }
    }

    @Test
    void callerThreadIsNotBlocked() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r ->
                Reply.json(OpenAiTestServer.chatCompletion("test-model", "slow")).delayed(800));
             LlmCaller caller = caller(server, 1, Duration.ofMillis(10), Duration.ofSeconds(10))) {
            long t0 = System.nanoTime();
            CompletableFuture<LlmAnswer<String>> f = ask(caller);
            long returnedMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(returnedMs < 500, "call() returned after " + returnedMs + " ms");
            assertEquals("slow", f.get(10, TimeUnit.SECONDS).value());
        }
    }

    @Test
    void moreThanSixtyFourCallsAreInFlightAtOnce() throws Exception {
        int calls = 100;
        // Every answer waits 1.5 s: all requests must reach the server before the first answer,
        // which one SDK client (at most 64 requests per host) cannot do.
        try (OpenAiTestServer server = OpenAiTestServer.start(r ->
                Reply.json(OpenAiTestServer.chatCompletion("test-model", "many")).delayed(1500));
             LlmCaller caller = caller(server, 1, Duration.ofMillis(10), Duration.ofSeconds(30))) {
            answerAll(caller, calls, "many");
            var arrivals = server.requests().stream().mapToLong(OpenAiTestServer.Request::atNanos).sorted().toArray();
            assertEquals(calls, arrivals.length);
            long spreadMs = (arrivals[calls - 1] - arrivals[0]) / 1_000_000;
            assertTrue(spreadMs < 1200, "the last request arrived " + spreadMs + " ms after the first: calls were queued");
            assertEquals(2, caller.sdkClients(), "one SDK client per 64 calls in flight");
        }
    }

    @Test
    void aSecondWaveOfCallsReusesTheConnectionsOfTheFirst() throws Exception {
        int calls = 20;
        try (OpenAiTestServer server = OpenAiTestServer.start(r ->
                Reply.json(OpenAiTestServer.chatCompletion("test-model", "again")).delayed(1000));
             LlmCaller caller = caller(server, 1, Duration.ofMillis(10), Duration.ofSeconds(30))) {
            List<Set<Integer>> ports = new ArrayList<>();
            for (int wave = 0; wave < 2; wave++) {
                answerAll(caller, calls, "again");
                ports.add(server.requests().stream().skip((long) wave * calls)
                        .map(OpenAiTestServer.Request::clientPort).collect(Collectors.toSet()));
                Thread.sleep(200);
            }
            // OkHttp's default pool keeps 5 idle connections: the second wave would open new ones.
            assertTrue(ports.get(0).size() > 5, "the first wave's calls overlapped on " + ports.get(0).size() + " connections");
            assertTrue(ports.get(0).containsAll(ports.get(1)), "the second wave opened connections: " + ports);
        }
    }

    @Test
    void noCallIsSentOnAConnectionTheServerClosedForIdleness() throws Exception {
        long serverKeepAliveMs = 5000; // vLLM's and uvicorn's
        try (IdleClosingServer server = new IdleClosingServer(serverKeepAliveMs,
                OpenAiTestServer.chatCompletion("test-model", "fresh"));
             LlmCaller caller = new LlmCaller(new LlmSettings(server.baseUrl(), "sk-test", "test-model",
                     Duration.ofSeconds(10), new RetryPolicy(1, Duration.ofMillis(10), Duration.ofMillis(40)), "explainer"),
                     meters)) {
            assertEquals("fresh", ask(caller).get(10, TimeUnit.SECONDS).value());
            // After the server's keep-alive: it has closed the connection, which the client must not reuse.
            Thread.sleep(serverKeepAliveMs + 1000);
            assertEquals("fresh", ask(caller).get(10, TimeUnit.SECONDS).value());
            assertEquals(2, server.connections(), "the second call came on a connection of its own");
        }
    }

    @Test
    void aCallAfterCloseFailsAsTransientNotAsTheRecordsFault() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion("test-model", "late")))) {
            LlmCaller caller = caller(server, 3, Duration.ofMillis(10), Duration.ofSeconds(10));
            caller.close();
            LlmException e = failure(ask(caller));
            assertEquals(io.neuronexplainer.runtime.worker.FaultClass.TRANSIENT, e.fault().kind(), e.getMessage());
            assertEquals(0, server.requests().size());
        }
    }

    /**
     * An HTTP/1.1 server that answers every request with {@code answer} and, like vLLM's (uvicorn's
     * 5 s keep-alive), closes a connection without a word once it has been idle for its keep-alive.
     */
    private static final class IdleClosingServer implements AutoCloseable {
        private final java.net.ServerSocket socket = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        private final AtomicInteger connections = new AtomicInteger();
        private final Thread acceptor;

        IdleClosingServer(long keepAliveMs, String answer) throws java.io.IOException {
            byte[] body = answer.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        java.net.Socket s = socket.accept();
                        connections.incrementAndGet();
                        Thread t = new Thread(() -> serve(s, (int) keepAliveMs, body));
                        t.setDaemon(true);
                        t.start();
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
        }

        private static void serve(java.net.Socket s, int keepAliveMs, byte[] body) {
            try (s) {
                s.setSoTimeout(keepAliveMs);
                java.io.InputStream in = s.getInputStream();
                while (true) {
                    StringBuilder head = new StringBuilder();
                    while (head.indexOf("\r\n\r\n") < 0) {
                        int b = in.read();
                        if (b < 0) {
                            return;
                        }
                        head.append((char) b);
                    }
                    int length = 0;
                    for (String line : head.toString().split("\r\n")) {
                        if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                            length = Integer.parseInt(line.substring("content-length:".length()).trim());
                        }
                    }
                    in.readNBytes(length);
                    s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                            + body.length + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    s.getOutputStream().write(body);
                    s.getOutputStream().flush();
                }
            } catch (java.io.IOException e) {
                // idle for its keep-alive (read timed out), or the client went: the connection is closed
            }
        }

        String baseUrl() {
            return "http://127.0.0.1:" + socket.getLocalPort() + "/v1";
        }

        int connections() {
            return connections.get();
        }

        @Override
        public void close() throws java.io.IOException {
            socket.close();
        }
    }
}
