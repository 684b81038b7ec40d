package io.neuronexplainer.bench.chaos;

import io.neuronexplainer.bench.DelayedOpenAiServer;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.neuronexplainer.runtime.DaemonThreads;
import io.neuronexplainer.runtime.HttpServers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark's fake LLM ({@link DelayedOpenAiServer}) answering a seeded random share of calls
 * with a fault instead: HTTP 429, HTTP 500, no answer until after the client's timeout, or garbage
 * (a body that is not JSON, or a completion with blank content). Every fault is one a worker must
 * retry, never dead-letter: garbage counts toward a call's attempts, so with a few percent of
 * faults a neuron's attempts never all fail.
 */
public final class FaultyOpenAiServer implements AutoCloseable {
    /** What a call can meet. */
    public enum Fault { RATE_LIMITED, SERVER_ERROR, TIMEOUT, GARBAGE }

    private final HttpServer http;
    private final ExecutorService threads;
    private final DelayedOpenAiServer answers = DelayedOpenAiServer.unbound();
    private final long delayMs;
    private final long stallMs;
    private final double faultRate;
    private final long seed;
    private final AtomicLong calls = new AtomicLong();
    private final Map<Fault, AtomicLong> injected = new EnumMap<>(Fault.class);

    private FaultyOpenAiServer(HttpServer http, ExecutorService threads, long delayMs, long stallMs, double faultRate, long seed) {
        this.http = http;
        this.threads = threads;
        this.delayMs = delayMs;
        this.stallMs = stallMs;
        this.faultRate = faultRate;
        this.seed = seed;
        for (Fault f : Fault.values()) {
            injected.put(f, new AtomicLong());
        }
    }

    /**
     * Starts on a free loopback port.
     *
     * @param delayMs how long every answer takes
     * @param stallMs how long a TIMEOUT call is held: longer than the workers' {@code --llm-timeout-s}
     * @param faultRate the share of calls answered with a fault, the four kinds equally often
     * @param concurrentRequests calls in flight at most (each held call holds a thread)
     */
    public static FaultyOpenAiServer start(long delayMs, long stallMs, double faultRate, long seed, int concurrentRequests)
            throws IOException {
        if (faultRate < 0 || faultRate > 0.5) {
            throw new IllegalArgumentException("--fault-rate must be between 0 and 0.5, not " + faultRate);
        }
        HttpServer http = HttpServers.create(new InetSocketAddress("127.0.0.1", 0), 4096);
        ExecutorService threads = Executors.newFixedThreadPool(concurrentRequests + 16, DaemonThreads.named("faulty-llm"));
        FaultyOpenAiServer server = new FaultyOpenAiServer(http, threads, delayMs, stallMs, faultRate, seed);
        http.createContext("/v1/chat/completions", server::answer);
        http.createContext("/v1/completions", server::answer);
        http.setExecutor(threads);
        http.start();
        return server;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/v1";
    }

    public long calls() {
        return calls.get();
    }

    /** How many calls met each fault, e.g. {@code 429=12 500=9 timeout=11 garbage=10}. */
    public String summary() {
        return String.format("429=%d 500=%d timeout=%d garbage=%d", injected.get(Fault.RATE_LIMITED).get(),
                injected.get(Fault.SERVER_ERROR).get(), injected.get(Fault.TIMEOUT).get(), injected.get(Fault.GARBAGE).get());
    }

    /** The fault of call number {@code call}, or null: a function of the seed and the call's number. */
    Fault faultOf(long call) {
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + call);
        if (random.nextDouble() >= faultRate) {
            return null;
        }
        return Fault.values()[random.nextInt(Fault.values().length)];
    }

    private void answer(HttpExchange exchange) throws IOException {
        long start = System.nanoTime();
        try (exchange) {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            long call = calls.incrementAndGet();
            Fault fault = faultOf(call);
            if (fault != null) {
                injected.get(fault).incrementAndGet();
            }
            String path = exchange.getRequestURI().getPath();
            if (fault == Fault.RATE_LIMITED) {
                send(exchange, 429, "{\"error\":{\"message\":\"Rate limit reached (injected by bench chaos)\","
                        + "\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}");
                return;
            }
            if (fault == Fault.SERVER_ERROR) {
                send(exchange, 500, "{\"error\":{\"message\":\"The server had an error (injected by bench chaos)\","
                        + "\"type\":\"server_error\",\"code\":null}}");
                return;
            }
            if (fault == Fault.GARBAGE) {
                // Half not JSON at all, half a well-formed completion no stage can use.
                send(exchange, 200, call % 2 == 0 ? "<html>garbage from bench chaos</html> {{"
                        : DelayedOpenAiServer.chatCompletion("chaos", "  \n "));
                return;
            }
            String response = answers.respond(path, body);
            sleepUntil(start, fault == Fault.TIMEOUT ? stallMs : delayMs);
            send(exchange, 200, response);
        } catch (IOException e) {
            // The client gave up (a held call after its timeout): nothing to answer.
        }
    }

    private static void sleepUntil(long start, long ms) {
        long left = ms - (System.nanoTime() - start) / 1_000_000;
        if (left > 0) {
            try {
                Thread.sleep(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        http.stop(0);
        threads.shutdownNow();
    }
}
