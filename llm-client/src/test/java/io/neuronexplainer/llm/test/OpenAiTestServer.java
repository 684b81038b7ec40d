package io.neuronexplainer.llm.test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * A local HTTP server speaking the OpenAI API format, for tests: it records every request
 * (path, JSON body, arrival time) and answers with what a test-given function returns for it.
 * The only stand-in the project allows, for paid LLM APIs. Built on the JDK's HttpServer.
 */
public final class OpenAiTestServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request as received; {@code clientPort}, the client's end of the connection, tells connections apart. */
    public record Request(String method, String path, Map<String, List<String>> headers, JsonNode body, long atNanos,
                          int clientPort) {}

    /** One answer: status, extra headers, body text, and how long to wait before answering. */
    public record Reply(int status, Map<String, String> headers, String body, long delayMillis) {
        public static Reply json(String body) {
            return new Reply(200, Map.of(), body, 0);
        }

        public static Reply status(int status, String body) {
            return new Reply(status, Map.of(), body, 0);
        }

        public Reply withHeader(String name, String value) {
            Map<String, String> h = new java.util.HashMap<>(headers);
            h.put(name, value);
            return new Reply(status, Map.copyOf(h), body, delayMillis);
        }

        public Reply delayed(long millis) {
            return new Reply(status, headers, body, millis);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private volatile Function<Request, Reply> responder;

    private OpenAiTestServer(Function<Request, Reply> responder) throws IOException {
        this.responder = responder;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "openai-test-server");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    public static OpenAiTestServer start(Function<Request, Reply> responder) throws IOException {
        return new OpenAiTestServer(responder);
    }

    /** The base URL to give the SDK, e.g. http://127.0.0.1:PORT/v1. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    public void respondWith(Function<Request, Reply> responder) {
        this.responder = responder;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] in = exchange.getRequestBody().readAllBytes();
            JsonNode body = in.length == 0 ? null : JSON.readTree(in);
            Request request = new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                    Map.copyOf(exchange.getRequestHeaders()), body, System.nanoTime(), exchange.getRemoteAddress().getPort());
            requests.add(request);
            Reply reply = responder.apply(request);
            if (reply.delayMillis() > 0) {
                Thread.sleep(reply.delayMillis());
            }
            byte[] out = reply.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            reply.headers().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
            exchange.sendResponseHeaders(reply.status(), out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
                try (OutputStream os = exchange.getResponseBody()) {
                    os.write(out);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the client gave up (e.g. its timeout): nothing to answer
        }
    }

    /** A chat completion answering {@code content}, with usage. */
    public static String chatCompletion(String model, String content) {
        return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":" + quote(model)
                + ",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"message\":{\"role\":\"assistant\",\"content\":"
                + quote(content) + "}}],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":7,\"total_tokens\":107}}";
    }

    public static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
