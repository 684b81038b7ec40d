package io.neuronexplainer.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.FreePort;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.test.TestRegistry;
import io.neuronexplainer.schemas.Topics;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code neuron-explain broker} and the one-line errors of the command line, as separate processes. */
class BrokerCommandTest {

    @Test
    void brokerStartsAndSaysWhereItListens(@TempDir Path dir) throws Exception {
        long start = System.nanoTime();
        Process broker = CliProcess.start(dir.resolve("stderr.txt"), "broker", "--kafka-port", "0",
                "--registry-port", "0", "--data-dir", dir.resolve("data").toString());
        try (BufferedReader out = new BufferedReader(new InputStreamReader(broker.getInputStream(), StandardCharsets.UTF_8))) {
            String kafka = null;
            String registry = null;
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("kafka:")) {
                    kafka = line.substring(6).trim();
                } else if (line.startsWith("registry:")) {
                    registry = line.substring(9).trim();
                } else if (line.startsWith("ready in")) {
                    break;
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            assertNotNull(kafka, "printed the broker address");
            assertNotNull(registry, "printed the registry address");
            // A bound against a hang, not a speed claim (the README gives the measured start time): a
            // loaded 2-core machine starts JVM, broker and registry in 5-45 s.
            assertTrue(seconds < 120, "ready after " + seconds + " s");
            KafkaClients clients = new KafkaClients(kafka, registry);
            try (Admin admin = Admin.create(clients.admin())) {
                assertTrue(admin.listTopics().names().get(10, TimeUnit.SECONDS).containsAll(
                        Topics.all().stream().map(Topics.Spec::name).toList()));
            }
            assertEquals(List.of(), clients.registry().subjects());
        } finally {
            broker.destroy();
            assertTrue(broker.waitFor(30, TimeUnit.SECONDS), "stops on SIGTERM");
        }
    }

    @Test
    void deadBrokerIsOneErrorLineAndExitCode1(@TempDir Path dir) throws Exception {
        String dead = "127.0.0.1:" + FreePort.find();
        var result = CliProcess.run(dir.resolve("stderr.txt"), 60, "topics", "--bootstrap-servers", dead,
                "--registry-url", TestRegistry.url());
        assertEquals(1, result.exitCode());
        assertEquals(List.of("error: no Kafka broker answered at " + dead + " within 15 s"), result.stderr().lines().toList());
    }

    @Test
    void wrongRegistryUrlIsOneErrorLineAndExitCode1(@TempDir Path dir) throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            String dead = "http://127.0.0.1:" + FreePort.find() + "/apis/ccompat/v7";
            var result = CliProcess.run(dir.resolve("stderr.txt"), 60, "topics",
                    "--bootstrap-servers", kafka.bootstrapServers(), "--registry-url", dead);
            assertEquals(1, result.exitCode());
            List<String> lines = result.stderr().lines().toList();
            assertEquals(1, lines.size(), result.stderr());
            assertTrue(lines.get(0).startsWith("error: schema registry at " + dead + " is unreachable"), lines.get(0));
        }
    }

    @Test
    void topicsCommandCreatesTopicsInACluster(@TempDir Path dir) throws Exception {
        try (TestKafka kafka = TestKafka.start(1)) {
            var result = CliProcess.run(dir.resolve("stderr.txt"), 60, "topics",
                    "--bootstrap-servers", kafka.bootstrapServers(), "--registry-url", TestRegistry.url(), "--partitions", "2");
            assertEquals(0, result.exitCode(), result.stderr());
            assertTrue(result.stdout().contains("neuron-scores"), result.stdout());
            try (Admin admin = Admin.create(kafka.clients().admin())) {
                assertEquals(2, admin.describeTopics(List.of(Topics.NEURON_SCORES)).allTopicNames().get()
                        .get(Topics.NEURON_SCORES).partitions().size());
            }
        }
    }

    @Test
    void helpListsTheCommands(@TempDir Path dir) throws Exception {
        var result = CliProcess.run(dir.resolve("stderr.txt"), 60, "--help");
        assertEquals(0, result.exitCode());
        assertTrue(result.stdout().contains("broker") && result.stdout().contains("topics"), result.stdout());
    }
}
