package io.neuronexplainer.launcher;

import io.neuronexplainer.runtime.Connection;
import io.neuronexplainer.runtime.ConnectionOptions;
import io.neuronexplainer.runtime.ServiceMain;
import io.neuronexplainer.schemas.Topics;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Creates the system's topics in a cluster (idempotently) and lists them. */
@Command(name = "topics", mixinStandardHelpOptions = true,
        description = "Create any missing topics in the given cluster, with their cleanup policies, and list them.")
public class TopicsCommand implements Callable<Integer> {
    @Mixin
    ConnectionOptions connection;

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            if (connection.embedded()) {
                throw new IllegalArgumentException("topics needs --bootstrap-servers and --registry-url (a running cluster)");
            }
            try (Connection ignored = connection.open()) {
                for (Topics.Spec spec : Topics.all()) {
                    System.out.printf("%-28s cleanup.policy=%s%n", spec.name(), spec.compact() ? "compact" : "delete");
                }
            }
            return 0;
        });
    }
}
