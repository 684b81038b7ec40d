package io.neuronexplainer.runtime.test;

import io.neuronexplainer.runtime.KafkaClients;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/** A real KRaft cluster inside the test JVM (Kafka's own test kit), with one-broker-safe settings. */
public final class TestKafka implements AutoCloseable {
    private final KafkaClusterTestKit cluster;
    private boolean closed;

    private TestKafka(KafkaClusterTestKit cluster) {
        this.cluster = cluster;
    }

    /** Starts {@code brokers} brokers (combined with one controller when 1). */
    public static TestKafka start(int brokers) {
        return start(brokers, java.util.Map.of());
    }

    /** As {@link #start(int)}, with more broker settings (e.g. a log cleaner that runs at once). */
    public static TestKafka start(int brokers, java.util.Map<String, String> brokerSettings) {
        try {
            TestKitNodes nodes = new TestKitNodes.Builder()
                    .setCombined(brokers == 1)
                    .setNumBrokerNodes(brokers)
                    .setNumControllerNodes(1)
                    .build();
            short rf = (short) Math.min(3, brokers);
            KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes)
                    .setConfigProp("offsets.topic.replication.factor", Short.toString(rf))
                    .setConfigProp("offsets.topic.num.partitions", "6")
                    .setConfigProp("transaction.state.log.replication.factor", Short.toString(rf))
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("transaction.state.log.num.partitions", "6")
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .setConfigProp("auto.create.topics.enable", "false");
            brokerSettings.forEach(builder::setConfigProp);
            KafkaClusterTestKit cluster = builder.build();
            cluster.format();
            cluster.startup();
            cluster.waitForReadyBrokers();
            return new TestKafka(cluster);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test Kafka cluster: " + e, e);
        }
    }

    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    public KafkaClusterTestKit cluster() {
        return cluster;
    }

    /** Creates every topic of the system with {@code partitions} partitions, one replica each; returns this. */
    public TestKafka withTopics(int partitions) {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(clients().admin())) {
            io.neuronexplainer.schemas.Topics.create(admin, partitions, (short) 1, 30_000);
            return this;
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot create the topics: " + e, e);
        }
    }

    /** Client settings for this cluster and the JVM's shared test registry. */
    public KafkaClients clients() {
        return new KafkaClients(bootstrapServers(), TestRegistry.url());
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return; // the test kit must be closed once only
        }
        closed = true;
        try {
            cluster.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop the test Kafka cluster", e);
        }
    }
}
