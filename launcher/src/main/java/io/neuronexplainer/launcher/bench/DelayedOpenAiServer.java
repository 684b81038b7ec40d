package io.neuronexplainer.launcher.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local server speaking the OpenAI chat-completions format that answers every request after a
 * fixed delay: a one-line explanation for explainer requests, and valid {@code chat-json}
 * predictions (zeros, as many as the request's windows have tokens) for simulator requests.
 * It stands in for a paid LLM API so the benchmark measures the pipeline, not a model.
 */
public final class DelayedOpenAiServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How ChatJsonSimulator states the lists' lengths in its prompt. */
    private static final Pattern SIZES = Pattern.compile("The lists have these lengths: \\[([0-9, ]*)]");

    private final HttpServer http;
    private final ExecutorService threads;
    private final long delayMs;
    private final AtomicLong requests = new AtomicLong();

    private DelayedOpenAiServer(HttpServer http, ExecutorService threads, long delayMs) {
        this.http = http;
        this.threads = threads;
        this.delayMs = delayMs;
    }

    /** Starts on a free loopback port with enough threads to hold {@code concurrentRequests} sleeping requests. */
    public static DelayedOpenAiServer start(long delayMs, int concurrentRequests) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4096);
        // Each request sleeps in its own thread, so the pool must hold every concurrent request.
        ExecutorService threads = Executors.newFixedThreadPool(concurrentRequests + 16, r -> {
            Thread t = new Thread(r, "fake-llm");
            t.setDaemon(true);
            return t;
        });
        DelayedOpenAiServer server = new DelayedOpenAiServer(http, threads, delayMs);
        http.createContext("/v1/chat/completions", server::answer);
        http.setExecutor(threads);
        http.start();
        return server;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/v1";
    }

    public long requests() {
        return requests.get();
    }

    private void answer(HttpExchange exchange) throws IOException {
        long start = System.nanoTime();
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        requests.incrementAndGet();
        String content;
        Matcher sizes = SIZES.matcher(body);
        if (sizes.find()) {
            content = predictions(sizes.group(1));
        } else {
            content = "the token \"cat\" and other words for animals.";
        }
        ObjectNode response = JSON.createObjectNode()
                .put("id", "chatcmpl-bench-" + requests.get())
                .put("object", "chat.completion")
                .put("created", System.currentTimeMillis() / 1000)
                .put("model", "bench");
        ObjectNode choice = response.putArray("choices").addObject();
        choice.put("index", 0).put("finish_reason", "stop").putNull("logprobs");
        choice.putObject("message").put("role", "assistant").put("content", content);
        response.putObject("usage").put("prompt_tokens", body.length() / 4).put("completion_tokens", 20)
                .put("total_tokens", body.length() / 4 + 20);
        byte[] bytes = JSON.writeValueAsBytes(response);
        long left = delayMs - (System.nanoTime() - start) / 1_000_000;
        if (left > 0) {
            try {
                Thread.sleep(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static String predictions(String sizes) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode lists = root.putArray("activations");
        for (String size : sizes.split(",")) {
            if (size.isBlank()) {
                continue;
            }
            ArrayNode list = lists.addArray();
            for (int i = 0; i < Integer.parseInt(size.trim()); i++) {
                list.add(i % 7 == 0 ? 3 : 0);
            }
        }
        return JSON.writeValueAsString(root);
    }

    @Override
    public void close() {
        http.stop(0);
        threads.shutdownNow();
    }
}
