package io.neuronexplainer.simulator;

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

/** {@code neuron-explain simulate}: runs one simulator-worker instance until SIGTERM (or idle). */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = "Simulate neurons: read simulation-requests, predict every token's activation from the explanation "
                + "alone (or, for detection and fuzzing requests, judge each excerpt), write neuron-simulations, exactly once. "
                + "Start more instances with the same --group-id to scale out.")
public class SimulateCommand implements Callable<Integer>, CliCommand {
    @Mixin
    ConnectionOptions connection;

    @Mixin
    SimulatorBackendOptions backend;

    @Mixin
    WorkerOptions worker;

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            WorkerSettings settings = worker.settings(SimulatorWorker.STAGE, Topics.SIMULATION_REQUESTS);
            try (MetricsServer metrics = MetricsServer.start(SimulatorWorker.STAGE, worker.metricsHost(), worker.metricsPort());
                 Simulator simulator = backend.create(metrics.registry());
                 Judge judge = backend.createJudge(metrics.registry());
                 Connection kafka = connection.open()) {
                var stage = SimulatorWorker.create(kafka.clients(), settings, simulator, judge, metrics.registry());
                // /health/live and /health/ready beside /metrics: not ready while paused on a fault.
                stage.health().serveOn(metrics);
                WorkerLifecycle.runUntilStopped(stage, settings);
            }
            return 0;
        });
    }
}
