package io.neuronexplainer.runtime.worker;

import com.sun.net.httpserver.HttpExchange;
import io.neuronexplainer.runtime.MetricsServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A worker's liveness and readiness, served as {@code /health/live} and {@code /health/ready}
 * (200 or 503, with a one-line reason): live while its loop turns, ready while it runs unpaused.
 */
public final class WorkerHealth {
    /** A loop that has not turned for this long is stuck: nothing it does blocks longer. */
    private static final Duration STALLED = Duration.ofMinutes(3);

    private final WorkerPause pause;
    private volatile boolean started;
    private volatile boolean ended;
    private volatile long lastTurnNanos = System.nanoTime();

    WorkerHealth(WorkerPause pause) {
        this.pause = pause;
    }

    void started() {
        lastTurnNanos = System.nanoTime();
        started = true;
    }

    void turned() {
        lastTurnNanos = System.nanoTime();
    }

    void ended() {
        ended = true;
    }

    public boolean live() {
        return !ended && System.nanoTime() - lastTurnNanos < STALLED.toNanos();
    }

    public boolean ready() {
        return started && live() && !pause.paused();
    }

    /** Why it is (not) ready, in one line. */
    public String readiness() {
        Fault fault = pause.fault();
        if (ended) {
            return "not ready: stopped";
        }
        if (!started) {
            return "not ready: starting";
        }
        if (fault != null) {
            return "not ready: paused (" + fault.reason() + "): " + pause.message();
        }
        return live() ? "ready" : "not ready: the worker loop has not turned for " + STALLED.toMinutes() + " min";
    }

    /** Serves {@code /health/live} and {@code /health/ready} on the metrics server's port. */
    public void serveOn(MetricsServer server) {
        server.handle("/health/live", exchange -> answer(exchange, live(), live() ? "live" : ended ? "not live: stopped"
                : "not live: the worker loop has not turned for " + STALLED.toMinutes() + " min"));
        server.handle("/health/ready", exchange -> answer(exchange, ready(), readiness()));
    }

    private static void answer(HttpExchange exchange, boolean ok, String line) throws IOException {
        byte[] body = (line + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(ok ? 200 : 503, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
