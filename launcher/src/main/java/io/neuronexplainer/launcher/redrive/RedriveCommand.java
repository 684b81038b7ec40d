package io.neuronexplainer.launcher.redrive;

import io.neuronexplainer.runtime.CliCommand;
import io.neuronexplainer.runtime.Connection;
import io.neuronexplainer.runtime.ConnectionOptions;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.ServiceMain;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code neuron-explain redrive}: re-publishes a dead-letter topic's letters to their source topics, once. */
@Command(name = "redrive", mixinStandardHelpOptions = true,
        description = {"Re-publish dead letters to their source topics once the cause is fixed: reads the dead-letter topic "
                + "to its current end, and in one transaction writes each selected letter's original key and value bytes to "
                + "its source topic and records them as redriven (consumer group redrive-<topic>), so a second run sends "
                + "none of them again. A letter without record bytes (a checkpoint the watcher refused) is listed and skipped.",
                "Prints one line per selected letter (source topic, partition@offset of the original, stage, error) and a summary."})
public class RedriveCommand implements Callable<Integer>, CliCommand {
    @Mixin
    ConnectionOptions connection;

    @Option(names = "--topic", required = true, paramLabel = "TOPIC-dlq",
            description = "The dead-letter topic to redrive, e.g. neuron-activations-dlq.")
    String topic;

    @Option(names = "--filter", paramLabel = "TEXT",
            description = "Only letters whose error class or message contains TEXT (ignoring case); the others stay for a later run. Default: all.")
    String filter;

    @Option(names = "--dry-run", description = "Print what would be sent; write nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            if (!topic.endsWith("-dlq")) {
                throw new IllegalArgumentException("--topic " + topic + " is not a dead-letter topic (their names end in -dlq)");
            }
            try (Connection open = connection.open()) {
                KafkaClients clients = open.clients();
                try (Admin admin = Admin.create(clients.admin())) {
                    Set<String> topics = admin.listTopics().names().get(KafkaClients.CONNECT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                    if (!topics.contains(topic)) {
                        throw new IllegalArgumentException("no topic " + topic + " at " + clients.bootstrapServers());
                    }
                }
                var s = new DeadLetterRedrive(clients, topic, filter, dryRun, System.out).run();
                System.out.printf("redrive %s: letters=%d redriven=%d skipped_no_bytes=%d not_selected=%d already_redriven=%d"
                                + " left_for_next_run=%d unreadable=%d%s%s%n",
                        topic, s.letters(), s.redriven(), s.skipped(), s.notSelected(), s.alreadyRedriven(), s.left(),
                        s.unreadable(), filter == null ? "" : " filter=\"" + filter + "\"",
                        dryRun ? " (dry run: nothing written)" : "");
            }
            return 0;
        });
    }
}
