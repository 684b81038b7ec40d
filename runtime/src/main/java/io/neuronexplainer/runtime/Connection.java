package io.neuronexplainer.runtime;

import io.neuronexplainer.schemas.Topics;
import java.io.IOException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service's live link to Kafka and the registry: checked reachable, topics created; in
 * embedded mode it also owns the broker and registry it started.
 */
public final class Connection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);

    private final KafkaClients clients;
    private final EmbeddedRuntime embedded;

    private Connection(KafkaClients clients, EmbeddedRuntime embedded) {
        this.clients = clients;
        this.embedded = embedded;
    }

    static Connection open(ConnectionOptions options) throws IOException {
        EmbeddedRuntime embedded = null;
        KafkaClients clients;
        if (options.embedded()) {
            long start = System.nanoTime();
            embedded = EmbeddedRuntime.start(options.dataDir(), 0, 0);
            log.info("embedded Kafka at {} and schema registry at {} started in {} ms",
                    embedded.bootstrapServers(), embedded.registryUrl(), (System.nanoTime() - start) / 1_000_000);
            clients = new KafkaClients(embedded.bootstrapServers(), embedded.registryUrl(), options.extraProperties());
        } else {
            if (options.registryUrl() == null || options.registryUrl().isBlank()) {
                throw new IllegalArgumentException("--registry-url is required with --bootstrap-servers");
            }
            clients = new KafkaClients(options.bootstrapServers(), options.registryUrl(), options.extraProperties());
        }
        Connection connection = new Connection(clients, embedded);
        try {
            connection.prepare(options.partitions(), options.replication(), options.retention());
        } catch (RuntimeException | IOException e) {
            connection.close();
            throw e;
        }
        return connection;
    }

    private void prepare(int partitions, short replication, java.time.Duration retention) throws IOException {
        clients.registry().subjects();
        try (Admin admin = Admin.create(clients.admin())) {
            clients.checkBroker(admin);
            Topics.create(admin, partitions, replication, retention, KafkaClients.CONNECT_TIMEOUT_MS);
        } catch (TimeoutException e) {
            throw new KafkaClients.UnreachableException("Kafka at " + clients.bootstrapServers()
                    + " did not answer while creating topics");
        }
    }

    public KafkaClients clients() {
        return clients;
    }

    public boolean isEmbedded() {
        return embedded != null;
    }

    @Override
    public void close() {
        if (embedded != null) {
            embedded.close();
        }
    }
}
