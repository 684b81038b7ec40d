package io.neuronexplainer.scorer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.neuronexplainer.runtime.DaemonThreads;
import io.neuronexplainer.runtime.HttpServers;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.scorer.drift.LayerDrift;
import io.neuronexplainer.schemas.NeuronScore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.apache.kafka.streams.errors.InvalidStateStoreException;

/**
 * The scorer's HTTP endpoint (JDK HttpServer): the neuron viewer page, its JSON API and
 * {@code /metrics}.
 *
 * <ul>
 *   <li>{@code GET /api/layers}: per (model, checkpoint, layer) aggregates of the neurons' best (simulation) scores</li>
 *   <li>{@code GET /api/layers/scorers}: per (model, checkpoint, layer, scorer kind) figures, see {@link ScorerLayerAggregates}</li>
 *   <li>{@code GET /api/neurons?threshold=0.8&model=&checkpoint=&layer=&limit=100}: best scores, best first</li>
 *   <li>{@code GET /api/neuron?model=&checkpoint=&layer=&neuron=}: one neuron, see {@link NeuronDocument}</li>
 * </ul>
 */
public final class ScorerHttpServer implements AutoCloseable {
    private static final Map<String, String> STATIC = Map.of(
            "/", "index.html", "/index.html", "index.html", "/viewer.js", "viewer.js", "/viewer.css", "viewer.css");

    private final HttpServer http;
    private final ExecutorService executor;
    private final ScorerStores stores;
    private final Supplier<String> metrics;

    private ScorerHttpServer(HttpServer http, ExecutorService executor, ScorerStores stores, Supplier<String> metrics) {
        this.http = http;
        this.executor = executor;
        this.stores = stores;
        this.metrics = metrics;
    }

    /** Starts serving; port 0 picks a free one. {@code registry} may be null (no /metrics). */
    public static ScorerHttpServer start(String host, int port, ScorerStores stores, PrometheusMeterRegistry registry)
            throws IOException {
        HttpServer http = HttpServers.create(new InetSocketAddress(host, port), 0);
        ExecutorService executor = Executors.newFixedThreadPool(4, DaemonThreads.named("scorer-http"));
        http.setExecutor(executor);
        ScorerHttpServer server = new ScorerHttpServer(http, executor, stores, registry == null ? null : registry::scrape);
        http.createContext("/", server::handle);
        http.start();
        return server;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            Map<String, String> q = query(ex.getRequestURI().getRawQuery());
            try {
                if (!"GET".equals(ex.getRequestMethod())) {
                    send(ex, 405, "text/plain", "only GET");
                } else if (STATIC.containsKey(path)) {
                    resource(ex, STATIC.get(path));
                } else if (path.equals("/metrics") && metrics != null) {
                    send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.get());
                } else if (path.equals("/api/layers")) {
                    ArrayNode out = Json.MAPPER.createArrayNode();
                    for (LayerAggregate a : stores.layers()) {
                        ObjectNode o = Json.MAPPER.valueToTree(a);
                        o.remove("bins");
                        o.remove("sum_fixed");
                        out.add(o);
                    }
                    json(ex, 200, out);
                } else if (path.equals("/api/layers/scorers")) {
                    ArrayNode out = Json.MAPPER.createArrayNode();
                    for (ScorerLayerAggregate a : stores.scorerLayers()) {
                        out.addObject().put("model", a.model()).put("checkpoint", a.checkpoint()).put("layer", a.layer())
                                .put("scorer_kind", a.scorerKind()).put("figure", a.figure()).put("count", a.count())
                                .put("mean", a.mean()).put("p10", a.p10()).put("p50", a.p50()).put("p90", a.p90())
                                .put("mean_scorer_prompt_tokens", a.meanScorerPromptTokens());
                    }
                    json(ex, 200, out);
                } else if (path.equals("/api/neurons")) {
                    double threshold = number(q, "threshold", -1);
                    int limit = (int) number(q, "limit", 100);
                    Integer layer = q.containsKey("layer") ? (int) number(q, "layer", 0) : null;
                    List<NeuronScore> best = stores.bestScores(q.get("model"), q.get("checkpoint"), layer, threshold, limit);
                    ArrayNode out = Json.MAPPER.createArrayNode();
                    best.forEach(s -> out.add(NeuronDocument.score(s)));
                    json(ex, 200, out);
                } else if (path.equals("/api/neuron")) {
                    NeuronKey key = new NeuronKey(required(q, "model"), required(q, "checkpoint"),
                            (int) number(q, "layer", Double.NaN), (int) number(q, "neuron", Double.NaN));
                    var activations = stores.activations(key).orElse(null);
                    var scores = stores.scores(key);
                    var sims = stores.simulations(key);
                    if (activations == null && scores.isEmpty() && sims.isEmpty()) {
                        json(ex, 404, error("no such neuron: " + key));
                    } else {
                        json(ex, 200, NeuronDocument.of(key, activations, scores, sims));
                    }
                } else if (path.equals("/api/checkpoints")) {
                    json(ex, 200, checkpoints(required(q, "model")));
                } else if (path.equals("/api/neuron/history")) {
                    json(ex, 200, history(required(q, "model"), (int) number(q, "layer", Double.NaN),
                            (int) number(q, "neuron", Double.NaN)));
                } else if (path.equals("/api/drift/layers")) {
                    String model = required(q, "model");
                    ArrayNode out = Json.MAPPER.createArrayNode();
                    for (LayerDrift d : LayerDrift.of(stores.drift(x -> x.getKey().getModel().equals(model), Comparator.comparing(x -> 0)))) {
                        ObjectNode o = out.addObject().put("layer", d.layer()).put("from", d.from()).put("to", d.to())
                                .put("series_id", d.seriesId()).put("neurons", d.neurons())
                                .put("mean_activation_drift", d.meanActivationDrift()).put("carried", d.carried())
                                .put("carried_holding", d.holding())
                                .put("prompt_tokens_with_reuse", d.promptTokensWithReuse())
                                .put("prompt_tokens_without_reuse", d.promptTokensWithoutReuse());
                        d.becameExplainable().forEach(o.putArray("became_explainable")::add);
                        d.stoppedExplainable().forEach(o.putArray("stopped_explainable")::add);
                    }
                    json(ex, 200, out);
                } else if (path.equals("/api/drift")) {
                    String model = required(q, "model");
                    String from = q.get("from");
                    String to = q.get("to");
                    String order = q.getOrDefault("order", "most-changed");
                    if (!order.equals("most-changed") && !order.equals("least-changed")) {
                        throw new IllegalArgumentException("order must be most-changed or least-changed, not " + order);
                    }
                    Comparator<NeuronDrift> byDrift = Comparator.comparingDouble(NeuronDrift::getActivationDrift);
                    List<NeuronDrift> found = stores.drift(d -> d.getKey().getModel().equals(model)
                            && (from == null || from.equals(d.getKey().getFromCheckpoint()))
                            && (to == null || to.equals(d.getKey().getToCheckpoint()))
                            && (!q.containsKey("layer") || d.getKey().getLayer() == (int) number(q, "layer", 0)),
                            order.equals("most-changed") ? byDrift.reversed() : byDrift);
                    ArrayNode out = Json.MAPPER.createArrayNode();
                    found.stream().limit((long) number(q, "limit", 100)).forEach(d -> out.add(
                            NeuronDocument.drift(d).put("layer", d.getKey().getLayer()).put("neuron", d.getKey().getNeuron())));
                    json(ex, 200, out);
                } else {
                    json(ex, 404, error("not found: " + path));
                }
            } catch (IllegalArgumentException e) {
                json(ex, 400, error(e.getMessage()));
            } catch (InvalidStateStoreException e) {
                json(ex, 503, error("stores not ready (the scorer is starting or rebalancing): " + e.getMessage()));
            }
        }
    }

    /** The model's checkpoints in step order (as the drift pairs know them), each with its scored neurons and mean score. */
    private ArrayNode checkpoints(String model) {
        Map<String, Long> steps = new java.util.HashMap<>();
        for (NeuronDrift d : stores.drift(d -> d.getKey().getModel().equals(model), Comparator.comparing(d -> 0))) {
            steps.put(d.getKey().getFromCheckpoint(), d.getFromStep());
            steps.put(d.getKey().getToCheckpoint(), d.getToStep());
        }
        Map<String, long[]> counts = new java.util.TreeMap<>();
        Map<String, Double> sums = new java.util.HashMap<>();
        for (LayerAggregate a : stores.layers()) {
            if (a.model().equals(model)) {
                counts.computeIfAbsent(a.checkpoint(), c -> new long[1])[0] += a.count();
                sums.merge(a.checkpoint(), a.mean() * a.count(), Double::sum);
            }
        }
        ArrayNode out = Json.MAPPER.createArrayNode();
        counts.keySet().stream().sorted(Comparator.comparingLong((String c) -> steps.getOrDefault(c, Long.MAX_VALUE))
                .thenComparing(c -> c)).forEach(c -> out.addObject().put("checkpoint", c)
                .put("step", steps.getOrDefault(c, -1L)).put("neurons", counts.get(c)[0])
                .put("mean_score", sums.get(c) / counts.get(c)[0]));
        return out;
    }

    /** Score and explanation at every checkpoint the neuron has, and its drift between consecutive ones. */
    private ObjectNode history(String model, int layer, int neuron) {
        ObjectNode out = Json.MAPPER.createObjectNode();
        ArrayNode points = out.putArray("checkpoints");
        for (var c : checkpoints(model)) {
            String checkpoint = c.get("checkpoint").asText();
            stores.best(new NeuronKey(model, checkpoint, layer, neuron)).ifPresent(best -> points.addObject()
                    .put("checkpoint", checkpoint).put("step", c.get("step").asLong())
                    .put("correlation", best.getCorrelation()).put("explanation", best.getExplanationText()));
        }
        ArrayNode pairs = out.putArray("drift");
        stores.history(model, layer, neuron).forEach(d -> pairs.add(NeuronDocument.drift(d)));
        return out;
    }

    private static ObjectNode error(String message) {
        return Json.MAPPER.createObjectNode().put("error", message);
    }

    private static String required(Map<String, String> q, String name) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("missing query parameter " + name);
        }
        return v;
    }

    private static double number(Map<String, String> q, String name, double fallback) {
        String v = q.get(name);
        if (v == null || v.isEmpty()) {
            if (Double.isNaN(fallback)) {
                throw new IllegalArgumentException("missing query parameter " + name);
            }
            return fallback;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("query parameter " + name + " is not a number: " + v);
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw == null) {
            return q;
        }
        for (String part : raw.split("&")) {
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            String v = eq < 0 ? "" : part.substring(eq + 1);
            q.put(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
        }
        return q;
    }

    private static void resource(HttpExchange ex, String name) throws IOException {
        try (InputStream in = ScorerHttpServer.class.getResourceAsStream("/viewer/" + name)) {
            if (in == null) {
                send(ex, 404, "text/plain", "missing resource " + name);
                return;
            }
            String type = name.endsWith(".html") ? "text/html; charset=utf-8"
                    : name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
            send(ex, 200, type, in.readAllBytes());
        }
    }

    private static void json(HttpExchange ex, int status, Object body) throws IOException {
        send(ex, status, "application/json", Json.MAPPER.writeValueAsBytes(body));
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        send(ex, status, type, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        http.stop(0);
        executor.shutdownNow();
    }
}
