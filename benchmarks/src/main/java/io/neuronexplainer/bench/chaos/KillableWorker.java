package io.neuronexplainer.bench.chaos;

import io.neuronexplainer.runtime.FreePort;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A worker in a JVM of its own ({@link ChaosWorkerProcess}), killed with SIGKILL and started again
 * with the same arguments, so the same instance id: the new process takes the dead one's
 * partitions and fences its open transaction. A process that ends without being killed (e.g. it
 * found the registry restarting as it started) is started again too, and counted.
 */
final class KillableWorker implements AutoCloseable {
    private final String name;
    private final List<String> command;
    private final Path log;
    private final PrintStream out;
    private final int healthPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private Process killed;
    private boolean closing;
    private int unplannedExits;

    KillableWorker(String name, List<String> args, Path log, PrintStream out) throws IOException {
        this.name = name;
        this.log = log;
        this.out = out;
        // The same port in every incarnation: /health/ready says when a started process has joined.
        this.healthPort = FreePort.find();
        this.command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx384m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                ChaosWorkerProcess.class.getName()));
        this.command.addAll(args);
        this.command.addAll(List.of("--metrics-port", Integer.toString(healthPort)));
    }

    /** Waits until the worker answers ready (subscribed, transactions started); false if it did not within {@code timeout}. */
    boolean awaitReady(Duration timeout) throws InterruptedException {
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + healthPort + "/health/ready"))
                .timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return true;
                }
            } catch (IOException e) {
                // Not listening yet.
            }
            Thread.sleep(250);
        }
        return false;
    }

    synchronized void start() throws IOException {
        if (closing) {
            return;
        }
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        process = p;
        p.onExit().thenAccept(this::exited);
    }

    /** Kills the process with SIGKILL, waits until it is gone, and starts it again; returns the killed pid. */
    long killAndRestart() throws IOException, InterruptedException {
        Process p;
        synchronized (this) {
            p = process;
            killed = p;
        }
        p.destroyForcibly();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(name + " (pid " + p.pid() + ") still runs 30 s after SIGKILL");
        }
        start();
        return p.pid();
    }

    private void exited(Process p) {
        synchronized (this) {
            if (closing || p != process || p == killed) {
                return;
            }
            unplannedExits++;
        }
        out.printf("%s (pid %d) ended by itself with exit code %d; starting it again (see %s)%n", name, p.pid(), p.exitValue(), log);
        CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS).execute(() -> {
            try {
                start();
            } catch (IOException e) {
                out.println(name + ": cannot start again: " + e.getMessage());
            }
        });
    }

    synchronized int unplannedExits() {
        return unplannedExits;
    }

    @Override
    public void close() {
        Process p;
        synchronized (this) {
            closing = true;
            p = process;
        }
        if (p != null) {
            p.destroy();
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
    }
}
