package io.neuronexplainer.runtime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node KRaft Kafka (broker and controller in one) running inside this JVM,
 * formatted on first start, on loopback, with its data under a chosen folder.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private final KafkaRaftServer server;
    private final String bootstrapServers;
    private final Path dataDir;

    private EmbeddedKafka(KafkaRaftServer server, String bootstrapServers, Path dataDir) {
        this.server = server;
        this.bootstrapServers = bootstrapServers;
        this.dataDir = dataDir;
    }

    /**
     * Formats {@code dataDir} if it is new and starts the broker.
     *
     * @param port the client port, or 0 for a free one
     */
    public static EmbeddedKafka start(Path dataDir, int port) throws IOException {
        Files.createDirectories(dataDir);
        int brokerPort = port == 0 ? FreePort.find() : port;
        // The controller port is recorded in the formatted log, so keep it across restarts.
        Path controllerPortFile = dataDir.resolve("controller.port");
        int controllerPort = Files.exists(controllerPortFile)
                ? Integer.parseInt(Files.readString(controllerPortFile).trim()) : FreePort.find();
        Files.writeString(controllerPortFile, Integer.toString(controllerPort));

        Properties props = brokerProperties(dataDir.resolve("log"), brokerPort, controllerPort);
        Path configFile = dataDir.resolve("server.properties");
        try (OutputStream out = Files.newOutputStream(configFile)) {
            props.store(out, "embedded broker of neuron-explain");
        }
        Path clusterIdFile = dataDir.resolve("cluster.id");
        if (!Files.exists(dataDir.resolve("log").resolve("meta.properties"))) {
            String clusterId = Uuid.randomUuid().toString();
            Files.writeString(clusterIdFile, clusterId);
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            int rc = StorageTool.execute(new String[] {"format", "-t", clusterId, "-c", configFile.toString(),
                    "--ignore-formatted"}, new PrintStream(captured, true, StandardCharsets.UTF_8));
            if (rc != 0) {
                throw new IOException("cannot format Kafka storage in " + dataDir + ": "
                        + captured.toString(StandardCharsets.UTF_8).trim());
            }
        }
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        try {
            server.startup();
        } catch (RuntimeException e) {
            server.shutdown();
            throw new IOException("cannot start the embedded Kafka broker on port " + brokerPort + ": " + e.getMessage(), e);
        }
        return new EmbeddedKafka(server, "127.0.0.1:" + brokerPort, dataDir);
    }

    static Properties brokerProperties(Path logDir, int brokerPort, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", logDir.toString());
        // One broker: internal topics must not ask for more replicas than exist, or
        // transactions and exactly_once_v2 Streams hang.
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "6");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "6");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("num.partitions", "6");
        p.put("auto.create.topics.enable", "false");
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(8 * 1024 * 1024));
        // Request threads sized to the machine the broker shares with its clients, not Kafka's
        // server defaults (8 handlers, 3 network threads): on 2 cores, 2 and 1 took the broker's
        // CPU in `bench scorer` from 18-19% of the process to 15-17% (docs/performance.md).
        int cores = Runtime.getRuntime().availableProcessors();
        p.put("num.io.threads", Integer.toString(ioThreads(cores)));
        p.put("num.network.threads", Integer.toString(networkThreads(cores)));
        return p;
    }

    /** The broker's request handler threads: one per core, at least 2, at most Kafka's default 8. */
    static int ioThreads(int cores) {
        return Math.max(2, Math.min(8, cores));
    }

    /** The broker's network threads: one per 2 cores, at most Kafka's default 3. */
    static int networkThreads(int cores) {
        return Math.max(1, Math.min(3, cores / 2));
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Path dataDir() {
        return dataDir;
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
    }
}
