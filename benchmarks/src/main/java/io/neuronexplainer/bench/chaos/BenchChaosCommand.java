package io.neuronexplainer.bench.chaos;

import io.neuronexplainer.runtime.CliCommand;
import io.neuronexplainer.runtime.ScratchFolder;
import io.neuronexplainer.runtime.ServiceMain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench chaos}: the pipeline under faults (worker processes killed with SIGKILL, a broker
 * stopped, the registry restarted, undecodable records, a faulty LLM), then a count of every
 * committed score per neuron and a check of every dead letter.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        description = "Run the whole pipeline on 3 brokers (replication 3, min ISR 2) with the real registry, the producer over "
                + "the demo model, 2 scorers and 3 explainer and 3 simulator workers (one of each a process of its own) against a "
                + "local OpenAI-format server that answers --fault-rate of its calls with 429, 500, a timeout or garbage; while "
                + "neurons flow, kill -9 a worker process --kills times (starting it again), stop and start a broker, restart the "
                + "registry and write --poison undecodable records into each topic a stage consumes. Then count the committed "
                + "scores per neuron (read_committed) and check that the dead letters are exactly the injected records. Last line: "
                + "neurons=N scored_once=N lost=0 duplicated=0 dead_letters=D expected_dead_letters=D kills=K broker_restarts=B "
                + "registry_restarts=R; exit code 1 when a neuron is lost or duplicated or the dead letters differ.")
public class BenchChaosCommand implements Callable<Integer>, CliCommand {
    @Option(names = "--neurons", defaultValue = "3072",
            description = "Neurons of the demo model to run, layer by layer from 0:0 (default: ${DEFAULT-VALUE}, all).")
    int neurons;

    @Option(names = "--kills", defaultValue = "5", description = "Worker processes killed with SIGKILL, explainer and simulator in turn (default: ${DEFAULT-VALUE}).")
    int kills;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the LLM's faults, the broker stopped and the poison (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--fault-rate", defaultValue = "0.05", description = "Share of LLM calls answered with a fault (default: ${DEFAULT-VALUE}).")
    double faultRate;

    @Option(names = "--timeout-s", defaultValue = "600", description = "Give up after this long (default: ${DEFAULT-VALUE}).")
    long timeoutS;

    @Option(names = "--windows", defaultValue = "1000", description = "Corpus windows the producer reads (default: ${DEFAULT-VALUE}).")
    long windows;

    @Option(names = "--llm-latency-ms", defaultValue = "800",
            description = "How long each LLM answer takes; with --max-in-flight it sets the pace, so the faults land while neurons "
                    + "flow (default: ${DEFAULT-VALUE}).")
    long llmLatencyMs;

    @Option(names = "--max-in-flight", defaultValue = "8", description = "LLM calls in flight per worker (default: ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--llm-timeout-s", defaultValue = "3",
            description = "The workers' LLM timeout; a faulty call is held 2 s longer (default: ${DEFAULT-VALUE}).")
    int llmTimeoutS;

    @Option(names = "--llm-max-attempts", defaultValue = "8",
            description = "The workers' tries per LLM call: enough that injected faults never use them all up (default: ${DEFAULT-VALUE}).")
    int llmMaxAttempts;

    @Option(names = "--llm-backoff-ms", defaultValue = "100", description = "The workers' first LLM retry wait (default: ${DEFAULT-VALUE}).")
    long llmBackoffMs;

    @Option(names = "--transaction-timeout-s", defaultValue = "10",
            description = "The workers' transaction timeout: how long a killed worker's open transaction holds back readers "
                    + "(default: ${DEFAULT-VALUE}).")
    int transactionTimeoutS;

    @Option(names = "--broker-down-s", defaultValue = "15", description = "How long the stopped broker stays down (default: ${DEFAULT-VALUE}).")
    int brokerDownS;

    @Option(names = "--poison", defaultValue = "50",
            description = "Undecodable records written into each topic a stage consumes (default: ${DEFAULT-VALUE}).")
    int poison;

    @Option(names = "--partitions", defaultValue = "6", description = "Partitions of every topic (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Where the brokers, registry, scorers and worker logs keep their files (default: a new temporary folder, "
                    + "deleted afterwards).")
    Path dataDir;

    @Override
    public String parent() {
        return "bench";
    }

    @Override
    public Integer call() {
        // As bench pipeline: the OpenAI SDK of the thread workers chains its async stages on the common
        // pool, whose parallelism is 1 on 2 cores (a new thread per stage); set before its first use.
        if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
            System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism",
                    Integer.toString(Math.max(4, Runtime.getRuntime().availableProcessors())));
        }
        return ServiceMain.run(() -> {
            if (dataDir != null) {
                // The brokers format their folders afresh: an earlier run's data would be refused half-way.
                if (Files.isDirectory(dataDir)) {
                    try (var entries = Files.list(dataDir)) {
                        if (entries.findAny().isPresent()) {
                            throw new IllegalArgumentException("--data-dir " + dataDir + " is not empty; give a new or empty folder");
                        }
                    }
                }
                return run(dataDir);
            }
            try (ScratchFolder dir = ScratchFolder.create("bench-chaos")) {
                return run(dir.path());
            }
        });
    }

    private int run(Path dir) throws Exception {
        ChaosSettings settings = new ChaosSettings(neurons, kills, seed, faultRate, windows, llmLatencyMs, maxInFlight, llmTimeoutS,
                llmMaxAttempts, llmBackoffMs, transactionTimeoutS, brokerDownS, poison, partitions, timeoutS, dir);
        ChaosRun.Outcome outcome = new ChaosRun(settings, System.out).run();
        System.out.printf("wall time %.1f s%n", outcome.seconds());
        System.out.println(outcome.holds() ? "held: every neuron scored exactly once, the dead letters are exactly the injected records"
                : "FAILED: " + outcome.failure());
        System.out.println(outcome.lastLine());
        return outcome.holds() ? 0 : 1;
    }
}
