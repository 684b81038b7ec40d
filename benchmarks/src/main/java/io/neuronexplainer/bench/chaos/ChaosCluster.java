package io.neuronexplainer.bench.chaos;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.RegistryProcess;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import kafka.server.BrokerServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * Three Kafka brokers and a KRaft controller in this JVM (Kafka's test kit), replication 3 with
 * min ISR 2, and the real schema registry as a process keeping its schemas in files; a broker can
 * be stopped and started again, and the registry restarted on the same port and storage.
 */
public final class ChaosCluster implements AutoCloseable {
    public static final int BROKERS = 3;

    private final KafkaClusterTestKit kafka;
    private final Path registryLog;
    private final Path registryStorage;
    private final int registryPort;
    private RegistryProcess registry;

    private ChaosCluster(KafkaClusterTestKit kafka, RegistryProcess registry, Path registryLog, Path registryStorage) {
        this.kafka = kafka;
        this.registry = registry;
        this.registryLog = registryLog;
        this.registryStorage = registryStorage;
        this.registryPort = registry.port();
    }

    /** Starts the brokers and the registry (together: each takes seconds), their data under {@code dir}. */
    public static ChaosCluster start(Path dir) throws Exception {
        Files.createDirectories(dir);
        Path registryLog = dir.resolve("registry.log");
        Path registryStorage = dir.resolve("registry");
        var registryStart = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return RegistryProcess.start(0, registryLog, registryStorage);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        KafkaClusterTestKit kafka = null;
        try {
            TestKitNodes nodes = new TestKitNodes.Builder()
                    .setCombined(false)
                    .setNumBrokerNodes(BROKERS)
                    .setNumControllerNodes(1)
                    .setBaseDirectory(dir.resolve("kafka"))
                    .build();
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes);
            brokerSettings().forEach(builder::setConfigProp);
            kafka = builder.build();
            // The test kit's format() prints every node's metadata on stdout, which is the bench's own output.
            PrintStream stdout = System.out;
            try (PrintStream formatLog = new PrintStream(Files.newOutputStream(dir.resolve("kafka-format.log")), true)) {
                System.setOut(formatLog);
                kafka.format();
            } finally {
                System.setOut(stdout);
            }
            kafka.startup();
            kafka.waitForReadyBrokers();
            return new ChaosCluster(kafka, registryStart.join(), registryLog, registryStorage);
        } catch (Exception | Error e) {
            registryStart.handle((r, error) -> {
                if (r != null) {
                    r.close();
                }
                return null;
            }).join();
            if (kafka != null) {
                kafka.close();
            }
            throw e;
        }
    }

    /** Every partition on three brokers, and a write needs two of them: one broker may be down at any time. */
    static Map<String, String> brokerSettings() {
        return Map.ofEntries(
                Map.entry("default.replication.factor", "3"),
                Map.entry("min.insync.replicas", "2"),
                Map.entry("offsets.topic.replication.factor", "3"),
                Map.entry("offsets.topic.num.partitions", "6"),
                Map.entry("transaction.state.log.replication.factor", "3"),
                Map.entry("transaction.state.log.min.isr", "2"),
                Map.entry("transaction.state.log.num.partitions", "6"),
                Map.entry("group.initial.rebalance.delay.ms", "0"),
                Map.entry("auto.create.topics.enable", "false"));
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    public String registryUrl() {
        return registry.url();
    }

    public KafkaClients clients() {
        return new KafkaClients(bootstrapServers(), registryUrl());
    }

    /** The broker ids (the controller is a node of its own, never among them). */
    public List<Integer> brokerIds() {
        return new ArrayList<>(kafka.brokers().keySet());
    }

    /** Stops one broker (a controlled shutdown: its partitions' leadership moves to the other two). */
    public void stopBroker(int id) {
        broker(id).shutdown();
        broker(id).awaitShutdown();
    }

    /** Starts a stopped broker again on its old port and data, and waits until it is back in every partition's ISR. */
    public void startBroker(int id, Duration timeout) throws Exception {
        broker(id).startup();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(clients().admin())) {
            while (!inEveryIsr(admin, id)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("broker " + id + " did not rejoin every ISR within " + timeout.toSeconds() + " s");
                }
                Thread.sleep(500);
            }
        }
    }

    private static boolean inEveryIsr(Admin admin, int id) {
        try {
            var names = admin.listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions().listInternal(true)).names()
                    .get(10, TimeUnit.SECONDS);
            for (TopicDescription d : admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS).values()) {
                for (var p : d.partitions()) {
                    if (p.replicas().stream().anyMatch(n -> n.id() == id) && p.isr().stream().noneMatch(n -> n.id() == id)) {
                        return false;
                    }
                }
            }
            return true;
        } catch (Exception e) {
            return false; // the cluster is still settling: ask again
        }
    }

    private BrokerServer broker(int id) {
        BrokerServer b = kafka.brokers().get(id);
        if (b == null) {
            throw new IllegalArgumentException("no broker " + id + " (brokers: " + brokerIds() + ")");
        }
        return b;
    }

    /** Stops the registry and starts it again on the same port and storage, so every schema id stays valid. */
    public void restartRegistry() throws IOException {
        registry.close();
        registry = RegistryProcess.start(registryPort, registryLog, registryStorage);
    }

    @Override
    public void close() throws Exception {
        try {
            registry.close();
        } finally {
            kafka.close();
        }
    }
}
