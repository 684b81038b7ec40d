package io.neuronexplainer.runtime;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/**
 * The real Apicurio Registry (2.6, in-memory storage) as a child process on loopback,
 * health-checked at start and stopped with this JVM. It serves the Confluent-compatible
 * API the project's serdes speak.
 */
public final class RegistryProcess implements AutoCloseable {
    public static final String HOME_PROPERTY = "neuron.registry.home";
    public static final String HOME_ENV = "NEURON_REGISTRY_HOME";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

    private final Process process;
    private final int port;
    private final Thread shutdownHook;

    private RegistryProcess(Process process, int port) {
        this.process = process;
        this.port = port;
        this.shutdownHook = new Thread(process::destroy, "registry-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Starts the registry and waits until it reports ready.
     *
     * @param port the HTTP port, or 0 for a free one
     * @param logFile where the registry's own output goes
     */
    public static RegistryProcess start(int port, Path logFile) throws IOException {
        Path runner = findRunnerJar();
        int httpPort = port == 0 ? FreePort.find() : port;
        Files.createDirectories(logFile.toAbsolutePath().getParent());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(List.of(java, "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=" + httpPort,
                "-Dquarkus.log.level=WARN", "-Dquarkus.banner.enabled=false",
                "-jar", runner.toString()))
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile())
                .start();
        RegistryProcess registry = new RegistryProcess(process, httpPort);
        try {
            registry.awaitReady(logFile);
        } catch (IOException | RuntimeException e) {
            registry.close();
            throw e;
        }
        return registry;
    }

    private void awaitReady(Path logFile) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
                .timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("the schema registry exited with code " + process.exitValue()
                        + " before it was ready; see " + logFile);
            }
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // Not listening yet.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the schema registry", e);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the schema registry", e);
            }
        }
        throw new IOException("the schema registry on port " + port + " was not ready within "
                + READY_TIMEOUT.toSeconds() + " s; see " + logFile);
    }

    /** Locates Apicurio's runner jar: system property, environment, or the build's unpack folder. */
    static Path findRunnerJar() throws IOException {
        String configured = System.getProperty(HOME_PROPERTY, System.getenv(HOME_ENV));
        Path home;
        if (configured != null) {
            home = Path.of(configured);
        } else {
            home = Path.of("runtime", "target", "apicurio");
        }
        if (Files.isDirectory(home)) {
            try (Stream<Path> files = Files.walk(home, 3)) {
                var jar = files.filter(f -> f.getFileName().toString().endsWith("-runner.jar")).findFirst();
                if (jar.isPresent()) {
                    return jar.get();
                }
            }
        }
        throw new IOException("Apicurio Registry not found under " + home.toAbsolutePath()
                + "; build the project first (./mvnw -DskipTests install) or set " + HOME_ENV);
    }

    /** Base URL of the Confluent-compatible API. */
    public String url() {
        return "http://127.0.0.1:" + port + "/apis/ccompat/v7";
    }

    public int port() {
        return port;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // Already shutting down: the hook does the same.
        }
    }
}
