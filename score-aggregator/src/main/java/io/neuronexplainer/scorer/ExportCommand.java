package io.neuronexplainer.scorer;

import io.neuronexplainer.runtime.CliCommand;
import io.neuronexplainer.runtime.Connection;
import io.neuronexplainer.runtime.ConnectionOptions;
import io.neuronexplainer.runtime.ServiceMain;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code neuron-explain export --out FILE.jsonl}: one JSON line per neuron, neuron-explainer's names. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write one JSON line per neuron: key, best explanation, all scores (simulation, detection and fuzzing, "
                + "each with its figures), windows (tokens, activations, "
                + "most_positive_activation_records, random_sample), the max on every window of the run's random sample "
                + "(random_window_maxima) and simulated activations per scoring window.")
public class ExportCommand implements Callable<Integer>, CliCommand {
    @Mixin
    ConnectionOptions connection;

    @Option(names = "--out", required = true, paramLabel = "FILE.jsonl", description = "Where to write.")
    Path out;

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            try (Connection c = connection.open()) {
                long n = Exporter.export(c.clients(), out);
                System.out.println("exported " + n + " neuron(s) to " + out);
            }
            return 0;
        });
    }
}
