package io.neuronexplainer.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * The flags every service shares to find Kafka and the registry. Without
 * {@code --bootstrap-servers} a service runs embedded: it starts its own broker and registry.
 */
public class ConnectionOptions {
    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT,...",
            defaultValue = "${env:NEURON_BOOTSTRAP_SERVERS}",
            description = "Kafka cluster to use (cluster mode). Default: start an embedded broker. Env: NEURON_BOOTSTRAP_SERVERS.")
    String bootstrapServers;

    @Option(names = "--registry-url", paramLabel = "URL",
            defaultValue = "${env:NEURON_REGISTRY_URL}",
            description = "Confluent-compatible schema registry API (Apicurio: http://HOST:PORT/apis/ccompat/v7). "
                    + "Required with --bootstrap-servers. Env: NEURON_REGISTRY_URL.")
    String registryUrl;

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "Kafka client properties (security, SASL, timeouts...) applied to every client.")
    Path kafkaConfig;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${env:NEURON_DATA_DIR:-.neuron-explain}",
            description = "Embedded mode: the broker's data and the registry's schemas (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--partitions", defaultValue = "6",
            description = "Partitions of topics this service creates when missing (default: ${DEFAULT-VALUE}); the ceiling on workers per group.")
    int partitions;

    @Option(names = "--retention-hours", defaultValue = "168",
            description = "How long topics this service creates with the delete policy keep records (default: "
                    + "${DEFAULT-VALUE} = 7 days); compacted topics keep the latest record of every identity.")
    long retentionHours = 168;

    @Option(names = "--replication-factor", defaultValue = "-1",
            description = "Replicas of topics this service creates (default: the broker's default).")
    short replication;

    public ConnectionOptions() {}

    /** For code and tests: cluster mode against the given servers. */
    public static ConnectionOptions cluster(String bootstrapServers, String registryUrl) {
        ConnectionOptions o = new ConnectionOptions();
        o.bootstrapServers = bootstrapServers;
        o.registryUrl = registryUrl;
        o.partitions = 6;
        o.replication = -1;
        o.dataDir = Path.of(".neuron-explain");
        return o;
    }

    /** The same options with the embedded runtime's data kept in {@code dir}. */
    public ConnectionOptions withDataDir(Path dir) {
        ConnectionOptions o = new ConnectionOptions();
        o.bootstrapServers = bootstrapServers;
        o.registryUrl = registryUrl;
        o.kafkaConfig = kafkaConfig;
        o.dataDir = dir;
        o.partitions = partitions;
        o.replication = replication;
        o.retentionHours = retentionHours;
        return o;
    }

    public boolean embedded() {
        return bootstrapServers == null || bootstrapServers.isBlank();
    }

    public Path dataDir() {
        return dataDir;
    }

    public int partitions() {
        return partitions;
    }

    public short replication() {
        return replication;
    }

    public java.time.Duration retention() {
        if (retentionHours <= 0) {
            throw new IllegalArgumentException("--retention-hours must be positive, not " + retentionHours);
        }
        return java.time.Duration.ofHours(retentionHours);
    }

    /** Extra client properties from --kafka-config. */
    public Map<String, String> extraProperties() throws IOException {
        Map<String, String> extra = new HashMap<>();
        if (kafkaConfig != null) {
            if (!Files.isReadable(kafkaConfig)) {
                throw new IOException("--kafka-config " + kafkaConfig + ": no such readable file");
            }
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(kafkaConfig)) {
                p.load(in);
            }
            p.forEach((k, v) -> extra.put(k.toString(), v.toString()));
        }
        return extra;
    }

    /** Connects (starting the embedded runtime if asked), checks both ends answer, creates topics. */
    public Connection open() throws IOException {
        return Connection.open(this);
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    String registryUrl() {
        return registryUrl;
    }
}
