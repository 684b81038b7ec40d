package io.neuronexplainer.runtime;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;

/**
 * A service's Micrometer registry, served in Prometheus text format at {@code /metrics}, with
 * JVM metrics and any Kafka clients' metrics bound. Every meter carries a {@code service} tag.
 */
public final class MetricsServer implements AutoCloseable {
    private final PrometheusMeterRegistry registry;
    private final HttpServer http;
    private final List<AutoCloseable> binders = new ArrayList<>();
    private final JvmGcMetrics gc = new JvmGcMetrics();

    private MetricsServer(PrometheusMeterRegistry registry, HttpServer http) {
        this.registry = registry;
        this.http = http;
    }

    /**
     * Starts serving.
     *
     * @param port the HTTP port, 0 for a free one, or -1 for no HTTP endpoint (meters still work)
     * @param host the address to bind, e.g. 0.0.0.0 in a container or 127.0.0.1 on a laptop
     */
    public static MetricsServer start(String service, String host, int port) throws IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("service", service);
        HttpServer http = null;
        if (port >= 0) {
            http = HttpServers.create(new InetSocketAddress(host, port), 0);
            http.createContext("/metrics", exchange -> {
                byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            http.start();
        }
        MetricsServer server = new MetricsServer(registry, http);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        server.gc.bindTo(registry);
        return server;
    }

    /** Serves another path on the same port (health checks, webhooks); ignored when there is no HTTP endpoint. */
    public void handle(String path, com.sun.net.httpserver.HttpHandler handler) {
        if (http != null) {
            http.createContext(path, handler);
        }
    }

    /**
     * Serves {@code /health/live} (200 while the process serves at all) and {@code /health/ready}:
     * 200, or 503 with the reason {@code notReady} gives (null when ready).
     */
    public void health(java.util.function.Supplier<String> notReady) {
        handle("/health/live", exchange -> answer(exchange, 200, "live"));
        handle("/health/ready", exchange -> {
            String why = notReady.get();
            answer(exchange, why == null ? 200 : 503, why == null ? "ready" : "not ready: " + why);
        });
    }

    private static void answer(com.sun.net.httpserver.HttpExchange exchange, int status, String text) throws IOException {
        byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The port /metrics listens on, or -1 when there is no HTTP endpoint. */
    public int port() {
        return http == null ? -1 : http.getAddress().getPort();
    }

    public void bind(Producer<?, ?> producer) {
        bind(new KafkaClientMetrics(producer));
    }

    public void bind(Consumer<?, ?> consumer) {
        bind(new KafkaClientMetrics(consumer));
    }

    private void bind(KafkaClientMetrics metrics) {
        metrics.bindTo(registry);
        binders.add(metrics);
    }

    @Override
    public void close() {
        if (http != null) {
            http.stop(0);
        }
        for (AutoCloseable binder : binders) {
            try {
                binder.close();
            } catch (Exception e) {
                // Closing meters of a client that is already gone: nothing to keep.
            }
        }
        gc.close();
        registry.close();
    }
}
