package io.neuronexplainer.launcher;

import io.neuronexplainer.runtime.EmbeddedRuntime;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.ServiceMain;
import io.neuronexplainer.schemas.Topics;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Starts the embedded runtime (a KRaft broker and the schema registry) and waits. */
@Command(name = "broker", mixinStandardHelpOptions = true,
        description = "Start an embedded Kafka broker and schema registry on loopback, create the topics, and wait (Ctrl-C stops).")
public class BrokerCommand implements Callable<Integer> {
    @Option(names = "--kafka-port", defaultValue = "9092", description = "Broker port, 0 for a free one (default: ${DEFAULT-VALUE}).")
    int kafkaPort;

    @Option(names = "--registry-port", defaultValue = "8081", description = "Registry port, 0 for a free one (default: ${DEFAULT-VALUE}).")
    int registryPort;

    @Option(names = "--data-dir", defaultValue = "${env:NEURON_DATA_DIR:-.neuron-explain}",
            description = "The broker's data and the registry's schemas, kept across restarts (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--partitions", defaultValue = "6", description = "Partitions per topic (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            long start = System.nanoTime();
            EmbeddedRuntime runtime = EmbeddedRuntime.start(dataDir, kafkaPort, registryPort);
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                runtime.close();
                stopped.countDown();
            }, "broker-stop"));
            KafkaClients clients = new KafkaClients(runtime.bootstrapServers(), runtime.registryUrl());
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, partitions, (short) 1, KafkaClients.CONNECT_TIMEOUT_MS);
            }
            System.out.printf("kafka:    %s%n", runtime.bootstrapServers());
            System.out.printf("registry: %s%n", runtime.registryUrl());
            System.out.printf("data:     %s%n", dataDir.toAbsolutePath());
            System.out.printf("ready in %.1f s; use --bootstrap-servers %s --registry-url %s; Ctrl-C stops%n",
                    (System.nanoTime() - start) / 1e9, runtime.bootstrapServers(), runtime.registryUrl());
            System.out.flush();
            stopped.await();
            return 0;
        });
    }
}
