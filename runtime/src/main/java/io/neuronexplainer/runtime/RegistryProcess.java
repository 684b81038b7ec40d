package io.neuronexplainer.runtime;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The real Apicurio Registry (2.6) as a child process on loopback, health-checked at start and
 * stopped with this JVM. It serves the Confluent-compatible API the project's serdes speak. Its
 * schemas live in an H2 database: in memory, or in files under a storage folder so that they
 * survive a restart as the broker's records do (records name their schema by id only).
 */
public final class RegistryProcess implements AutoCloseable {
    public static final String HOME_PROPERTY = "neuron.registry.home";
    public static final String HOME_ENV = "NEURON_REGISTRY_HOME";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    private static final String PID_FILE = "registry.pid";

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
     * Starts a registry with in-memory storage (schemas gone when it stops) and waits until it
     * reports ready.
     *
     * @param port the HTTP port, or 0 for a free one
     * @param logFile where the registry's own output goes
     */
    public static RegistryProcess start(int port, Path logFile) throws IOException {
        return start(port, logFile, null);
    }

    /**
     * Starts the registry and waits until it reports ready.
     *
     * @param port the HTTP port, or 0 for a free one
     * @param logFile where the registry's own output goes
     * @param storageDir where its schemas are kept across restarts (created if new), or null for memory only
     */
    public static RegistryProcess start(int port, Path logFile, Path storageDir) throws IOException {
        Path runner = findRunnerJar();
        int httpPort = port == 0 ? FreePort.find() : port;
        Files.createDirectories(logFile.toAbsolutePath().getParent());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Dquarkus.http.host=127.0.0.1", "-Dquarkus.http.port=" + httpPort,
                "-Dquarkus.log.level=WARN", "-Dquarkus.banner.enabled=false"));
        boolean recordPid = false;
        if (storageDir != null) {
            command.addAll(fileStorage(storageDir));
            recordPid = stopOrphan(storageDir);
        }
        command.addAll(List.of("-jar", runner.toString()));
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(logFile.toFile())
                .start();
        if (recordPid) {
            Files.writeString(storageDir.resolve(PID_FILE), pidRecord(process));
        }
        RegistryProcess registry = new RegistryProcess(process, httpPort);
        try {
            registry.awaitReady(logFile);
        } catch (IOException | RuntimeException e) {
            registry.close();
            throw e;
        }
        return registry;
    }

    /**
     * Apicurio's SQL storage on an H2 file database in {@code storageDir} (the settings its
     * application.properties reads; user and password are its defaults, stated so that a later
     * start opens the same database). WRITE_DELAY=0 flushes each commit at once, so a registry
     * killed right after registering a schema still has it.
     */
    static List<String> fileStorage(Path storageDir) throws IOException {
        Path dir = storageDir.toAbsolutePath();
        Files.createDirectories(dir);
        return List.of("-DREGISTRY_DATASOURCE_URL=jdbc:h2:file:" + dir.resolve("registry") + ";WRITE_DELAY=0",
                "-DREGISTRY_DATASOURCE_USERNAME=sa", "-DREGISTRY_DATASOURCE_PASSWORD=sa");
    }

    /**
     * Stops the registry an earlier run started on this storage and left behind (its JVM was
     * killed, so its shutdown hook never ran): it would hold the database's lock. Only a live
     * process whose command line names this storage and whose starting JVM is gone is stopped; a
     * registry of a JVM still running is left alone (this start then fails on the lock).
     *
     * @return false when the storage's registry runs, started by a JVM still running (its record is kept)
     */
    private static boolean stopOrphan(Path storageDir) throws IOException {
        Path pidFile = storageDir.resolve(PID_FILE);
        if (!Files.exists(pidFile)) {
            return true;
        }
        String url = fileStorage(storageDir).get(0);
        String[] recorded = Files.readString(pidFile).trim().split(" ");
        try {
            var registry = ProcessHandle.of(Long.parseLong(recorded[0]))
                    .filter(p -> p.info().commandLine().map(c -> c.contains(url)).orElse(false));
            boolean starterAlive = recorded.length == 3 && ProcessHandle.of(Long.parseLong(recorded[1]))
                    .flatMap(p -> p.info().startInstant())
                    .map(started -> started.toEpochMilli() == Long.parseLong(recorded[2]))
                    .orElse(false);
            if (registry.isPresent() && starterAlive) {
                return false;
            }
            registry.ifPresent(orphan -> {
                orphan.destroy();
                try {
                    orphan.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    orphan.destroyForcibly();
                }
            });
        } catch (NumberFormatException e) {
            // Not what we write: nothing to stop.
        }
        Files.deleteIfExists(pidFile);
        return true;
    }

    /** The registry's pid, and this JVM's pid and start time (so that a reused pid is not taken for it). */
    private static String pidRecord(Process registry) {
        ProcessHandle self = ProcessHandle.current();
        return registry.pid() + " " + self.pid() + " "
                + self.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
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
