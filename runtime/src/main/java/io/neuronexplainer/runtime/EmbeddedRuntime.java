package io.neuronexplainer.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default: a real KRaft broker in this JVM and a real registry child process, both
 * keeping their data under one folder ({@code kafka/} and {@code registry/}), so a restart on the
 * same folder finds every record and every schema the records name.
 */
public final class EmbeddedRuntime implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedRuntime.class);
    private final EmbeddedKafka kafka;
    private final RegistryProcess registry;

    private EmbeddedRuntime(EmbeddedKafka kafka, RegistryProcess registry) {
        this.kafka = kafka;
        this.registry = registry;
    }

    /**
     * Starts the registry and the broker side by side (the registry's start-up is the slower).
     *
     * @param dataDir broker data, registry storage and registry log live here
     * @param kafkaPort broker client port, 0 for a free one
     * @param registryPort registry HTTP port, 0 for a free one
     */
    public static EmbeddedRuntime start(Path dataDir, int kafkaPort, int registryPort) throws IOException {
        if (Files.exists(dataDir.resolve("kafka").resolve("log").resolve("meta.properties"))
                && !Files.isDirectory(dataDir.resolve("registry"))) {
            // A folder from before the registry kept its schemas: its records name schemas no registry has.
            log.warn("{} holds records written while the registry kept its schemas in memory: they cannot be decoded"
                    + " (dead letters with 'fetch schema id ... HTTP 404'); new records are fine", dataDir);
        }
        var registryStart = new java.util.concurrent.CompletableFuture<RegistryProcess>();
        Thread starter = new Thread(() -> {
            try {
                registryStart.complete(RegistryProcess.start(registryPort, dataDir.resolve("registry.log"),
                        dataDir.resolve("registry")));
            } catch (Throwable e) {
                registryStart.completeExceptionally(e);
            }
        }, "registry-start");
        starter.start();
        EmbeddedKafka kafka;
        try {
            kafka = EmbeddedKafka.start(dataDir.resolve("kafka"), kafkaPort);
        } catch (IOException | RuntimeException e) {
            registryStart.thenAccept(RegistryProcess::close);
            throw e;
        }
        try {
            return new EmbeddedRuntime(kafka, registryStart.join());
        } catch (java.util.concurrent.CompletionException e) {
            kafka.close();
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public String registryUrl() {
        return registry.url();
    }

    @Override
    public void close() {
        try {
            kafka.close();
        } finally {
            registry.close();
        }
    }
}
