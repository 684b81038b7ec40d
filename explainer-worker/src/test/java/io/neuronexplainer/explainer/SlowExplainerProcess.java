package io.neuronexplainer.explainer;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.worker.WorkerLifecycle;
import io.neuronexplainer.runtime.worker.WorkerSettings;
import java.time.Duration;
import java.util.Set;

/**
 * An explainer-worker JVM with a slow stand-in explainer, for the kill-and-restart test.
 * Arguments: bootstrap servers, registry URL, instance id, explainer delay in ms, idle seconds (0 = never).
 */
public final class SlowExplainerProcess {
    private SlowExplainerProcess() {}

    public static void main(String[] args) {
        KafkaClients clients = new KafkaClients(args[0], args[1]);
        WorkerSettings settings = ExplainerWorker.settings(6).withInstance(args[2], true);
        int idle = Integer.parseInt(args[4]);
        if (idle > 0) {
            settings = settings.withExitWhenIdle(Duration.ofSeconds(idle));
        }
        WorkerLifecycle.runUntilStopped(ExplainerWorker.create(clients, settings,
                new TestExplainer(Long.parseLong(args[3]), Set.of()), new SimpleMeterRegistry()), settings);
        System.exit(0);
    }
}
