package io.neuronexplainer.runtime;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import io.neuronexplainer.schemas.NeuronPartitioner;
import io.neuronexplainer.schemas.RegistryClient;

/**
 * Where the services find Kafka and the registry, and the client settings they share: bounded
 * timeouts everywhere, so a dead broker gives an error instead of a hang.
 */
public record KafkaClients(String bootstrapServers, String registryUrl, Map<String, String> extra) {
    /** How long to wait for a broker before saying it is unreachable. */
    public static final long CONNECT_TIMEOUT_MS = 15_000;

    public KafkaClients {
        extra = Map.copyOf(extra);
    }

    public KafkaClients(String bootstrapServers, String registryUrl) {
        this(bootstrapServers, registryUrl, Map.of());
    }

    public RegistryClient registry() {
        return RegistryClient.shared(registryUrl);
    }

    private Map<String, Object> common() {
        Map<String, Object> p = new HashMap<>();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(RegistryClient.URL_CONFIG, registryUrl);
        p.putAll(extra);
        return p;
    }

    public Map<String, Object> admin() {
        Map<String, Object> p = common();
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) CONNECT_TIMEOUT_MS);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.putAll(extra);
        return p;
    }

    /** A producer; with a transactional id it is idempotent and transactional. */
    public Map<String, Object> producer(String transactionalId) {
        Map<String, Object> p = common();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, CONNECT_TIMEOUT_MS);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 * 1024 * 1024);
        // A neuron's activations (keyed by neuron and run) go where its simulations go, for the scorer's join.
        p.put(ProducerConfig.PARTITIONER_CLASS_CONFIG, NeuronPartitioner.class);
        if (transactionalId != null) {
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        }
        p.putAll(extra);
        return p;
    }

    /** A consumer of committed data only, committing its offsets itself. */
    public Map<String, Object> consumer(String groupId) {
        Map<String, Object> p = common();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) CONNECT_TIMEOUT_MS);
        p.putAll(extra);
        return p;
    }

    /**
     * A consumer of committed data on partitions it assigns itself, reading them to an end it knows:
     * no group, nothing committed, and no wait at the broker for data past that end. At the default
     * 500 ms the broker held the last fetch that long, and closing the consumer waited for it: half a
     * second of every read of a small topic. These settings, read_committed and no auto-commit override
     * the same keys given in --kafka-config: the readers' ends are the last committed offsets.
     */
    public Map<String, Object> readerToEnd(String clientId) {
        Map<String, Object> p = consumer(clientId);
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false); // no group to commit to
        return p;
    }

    public Properties asProperties(Map<String, Object> map) {
        Properties p = new Properties();
        p.putAll(map);
        return p;
    }

    /**
     * Fails fast, in one line, when no broker answers: the Kafka clients themselves would
     * otherwise retry quietly for minutes.
     */
    public void checkBroker(Admin admin) {
        try {
            admin.describeCluster().clusterId().get(CONNECT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            throw new UnreachableException("no Kafka broker answered at " + bootstrapServers + " within "
                    + CONNECT_TIMEOUT_MS / 1000 + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnreachableException("interrupted while contacting Kafka at " + bootstrapServers);
        }
    }

    /** A service's dependency (broker or registry) did not answer. */
    public static final class UnreachableException extends RuntimeException {
        public UnreachableException(String message) {
            super(message);
        }
    }
}
