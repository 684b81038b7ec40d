package io.neuronexplainer.explainer;

import io.neuronexplainer.runtime.CliCommand;
import io.neuronexplainer.runtime.Connection;
import io.neuronexplainer.runtime.ConnectionOptions;
import io.neuronexplainer.runtime.MetricsServer;
import io.neuronexplainer.runtime.ServiceMain;
import io.neuronexplainer.runtime.worker.WorkerLifecycle;
import io.neuronexplainer.runtime.worker.WorkerOptions;
import io.neuronexplainer.runtime.worker.WorkerSettings;
import io.neuronexplainer.schemas.Topics;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code neuron-explain explain}: runs one explainer-worker instance until SIGTERM (or idle). */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = "Explain neurons: read neuron-activations, write neuron-explanations and simulation-requests (one per scorer kind), "
                + "exactly once. Start more instances with the same --group-id to scale out.")
public class ExplainCommand implements Callable<Integer>, CliCommand {
    @Mixin
    ConnectionOptions connection;

    @Mixin
    ExplainerBackendOptions backend;

    @Mixin
    WorkerOptions worker;

    @Option(names = "--reuse-explanations", description = "Explain only the neurons the scorer found changed since the "
            + "previous checkpoint (topic explanation-requests) instead of every neuron (neuron-activations); the scorer "
            + "must run with --reuse-explanations too (off by default).")
    boolean reuseExplanations;

    @Option(names = "--scorers", defaultValue = "simulation", paramLabel = "KIND,...",
            description = "How each explanation is scored, one request per kind to the simulator pool: simulation (the "
                    + "paper's: predict every token, correlate), detection (which excerpts activate the neuron), fuzzing "
                    + "(are the marked tokens the activating ones); e.g. simulation,detection,fuzzing. Default: ${DEFAULT-VALUE}.")
    String scorers;

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            Scorers chosen = Scorers.parse(scorers);
            WorkerSettings settings = worker.settings(ExplainerWorker.STAGE,
                    reuseExplanations ? Topics.EXPLANATION_REQUESTS : Topics.NEURON_ACTIVATIONS);
            try (MetricsServer metrics = MetricsServer.start(ExplainerWorker.STAGE, worker.metricsHost(), worker.metricsPort());
                 Explainer explainer = backend.create(metrics.registry());
                 Connection kafka = connection.open()) {
                var stage = ExplainerWorker.create(kafka.clients(), settings, explainer, chosen, metrics.registry());
                // /health/live and /health/ready beside /metrics: not ready while paused on a fault.
                stage.health().serveOn(metrics);
                WorkerLifecycle.runUntilStopped(stage, settings);
            }
            return 0;
        });
    }
}
