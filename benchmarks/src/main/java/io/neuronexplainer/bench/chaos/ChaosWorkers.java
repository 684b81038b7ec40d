package io.neuronexplainer.bench.chaos;

import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.explainer.Explainer;
import io.neuronexplainer.explainer.ExplainerBackendOptions;
import io.neuronexplainer.explainer.ExplainerWorker;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.worker.TransactionalWorker;
import io.neuronexplainer.runtime.worker.WorkerSettings;
import io.neuronexplainer.simulator.Simulator;
import io.neuronexplainer.simulator.SimulatorBackendOptions;
import io.neuronexplainer.simulator.SimulatorWorker;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The explainer and simulator workers of a chaos run, all with the openai backend against the
 * faulty LLM, one consumer group per stage: per stage {@link ChaosSettings#THREAD_WORKERS_PER_STAGE}
 * in this JVM as threads and one killable JVM of its own. A thread worker that stops on an error
 * is started again (and counted), as a supervisor would restart a pod.
 */
final class ChaosWorkers implements AutoCloseable {
    /** The two worker stages. */
    enum Stage { EXPLAINER, SIMULATOR }

    static final String EXPLAINER_MODEL = "chaos-explainer";
    static final String SIMULATOR_MODEL = "chaos-simulator";
    static final String SIMULATOR_METHOD = "chat-json";

    private final KafkaClients clients;
    private final ChaosSettings settings;
    private final String llmUrl;
    private final MeterRegistry meters;
    private final PrintStream out;
    private final List<ThreadWorker> threads = new ArrayList<>();
    private final KillableWorker explainerProcess;
    private final KillableWorker simulatorProcess;
    private final AtomicInteger threadRestarts = new AtomicInteger();

    ChaosWorkers(KafkaClients clients, ChaosSettings settings, String llmUrl, Path logDir, MeterRegistry meters, PrintStream out)
            throws IOException {
        this.clients = clients;
        this.settings = settings;
        this.llmUrl = llmUrl;
        this.meters = meters;
        this.out = out;
        this.explainerProcess = new KillableWorker("explainer process", processArgs(Stage.EXPLAINER),
                logDir.resolve("explainer-process.log"), out);
        this.simulatorProcess = new KillableWorker("simulator process", processArgs(Stage.SIMULATOR),
                logDir.resolve("simulator-process.log"), out);
    }

    /** The services' own command line: the same flags a deployment gives them. */
    private List<String> processArgs(Stage stage) {
        List<String> args = new ArrayList<>(List.of(stage == Stage.EXPLAINER ? "explain" : "simulate",
                "--bootstrap-servers", clients.bootstrapServers(), "--registry-url", clients.registryUrl(),
                "--partitions", Integer.toString(settings.partitions()), "--replication-factor", "3",
                "--method", "openai", "--llm-base-url", llmUrl,
                "--llm-timeout-s", Integer.toString(settings.llmTimeoutS()),
                "--llm-max-attempts", Integer.toString(settings.llmMaxAttempts()),
                "--llm-backoff-ms", Long.toString(settings.llmBackoffMs()),
                "--max-in-flight", Integer.toString(settings.maxInFlight()),
                "--transaction-timeout-s", Integer.toString(settings.transactionTimeoutS()),
                "--instance-id", stage == Stage.EXPLAINER ? "explainer-process" : "simulator-process"));
        if (stage == Stage.EXPLAINER) {
            args.addAll(List.of("--explainer-model", EXPLAINER_MODEL));
        } else {
            args.addAll(List.of("--simulator-method", SIMULATOR_METHOD, "--simulator-model", SIMULATOR_MODEL));
        }
        return args;
    }

    void start() throws IOException {
        for (Stage stage : Stage.values()) {
            for (int i = 1; i <= ChaosSettings.THREAD_WORKERS_PER_STAGE; i++) {
                ThreadWorker w = new ThreadWorker(stage, stage.name().toLowerCase() + "-thread-" + i);
                threads.add(w);
                w.start();
            }
        }
        explainerProcess.start();
        simulatorProcess.start();
    }

    /** Waits until both worker processes answer ready; false if one did not within {@code timeout}. */
    boolean awaitProcessesReady(Duration timeout) throws InterruptedException {
        return explainerProcess.awaitReady(timeout) && simulatorProcess.awaitReady(timeout);
    }

    /**
     * Kills the stage's worker process with SIGKILL, starts it again and waits until it is ready
     * (so that the next fault does not meet it starting); returns the killed pid.
     */
    long kill(Stage stage, Duration readyTimeout) throws IOException, InterruptedException {
        KillableWorker worker = stage == Stage.EXPLAINER ? explainerProcess : simulatorProcess;
        long pid = worker.killAndRestart();
        if (!worker.awaitReady(readyTimeout)) {
            out.printf("the %s process started after the kill was not ready within %d s%n", stage.name().toLowerCase(),
                    readyTimeout.toSeconds());
        }
        return pid;
    }

    /** Restarts nobody asked for: worker processes that ended by themselves, thread workers that stopped on an error. */
    int unplannedRestarts() {
        return explainerProcess.unplannedExits() + simulatorProcess.unplannedExits() + threadRestarts.get();
    }

    @Override
    public void close() {
        threads.forEach(ThreadWorker::stop);
        explainerProcess.close();
        simulatorProcess.close();
        threads.forEach(ThreadWorker::join);
    }

    /** A worker on a thread of this JVM, started again if it stops on an error. */
    private final class ThreadWorker {
        private final Stage stage;
        private final String instance;
        private final Thread thread;
        private volatile boolean stopping;
        private volatile TransactionalWorker<?, ?> current;

        ThreadWorker(Stage stage, String instance) {
            this.stage = stage;
            this.instance = instance;
            this.thread = new Thread(this::loop, instance);
            this.thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        private WorkerSettings workerSettings() {
            WorkerSettings base = stage == Stage.EXPLAINER ? ExplainerWorker.settings(settings.maxInFlight())
                    : SimulatorWorker.settings(settings.maxInFlight());
            return base.withInstance(instance, true).withTransactionTimeout(Duration.ofSeconds(settings.transactionTimeoutS()));
        }

        private void loop() {
            while (!stopping) {
                try {
                    if (stage == Stage.EXPLAINER) {
                        try (Explainer explainer = ExplainerBackendOptions.openai(llmUrl, EXPLAINER_MODEL)
                                .retries(settings.llmMaxAttempts(), settings.llmBackoffMs(), settings.llmTimeoutS()).create(meters)) {
                            run(ExplainerWorker.create(clients, workerSettings(), explainer, meters));
                        }
                    } else {
                        try (Simulator simulator = SimulatorBackendOptions.openai(llmUrl, SIMULATOR_METHOD, SIMULATOR_MODEL)
                                .retries(settings.llmMaxAttempts(), settings.llmBackoffMs(), settings.llmTimeoutS()).create(meters)) {
                            run(SimulatorWorker.create(clients, workerSettings(), simulator, meters));
                        }
                    }
                } catch (RuntimeException e) {
                    if (stopping) {
                        return;
                    }
                    threadRestarts.incrementAndGet();
                    out.printf("%s stopped (%s); starting it again%n", instance, e.getMessage());
                    try {
                        Thread.sleep(2000);
                    } catch (InterruptedException interrupted) {
                        return;
                    }
                }
            }
        }

        private void run(TransactionalWorker<?, ?> worker) {
            current = worker;
            if (!stopping) {
                worker.run();
            }
        }

        void stop() {
            stopping = true;
            TransactionalWorker<?, ?> w = current;
            if (w != null) {
                w.stop();
            }
        }

        void join() {
            try {
                thread.join(45_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
