package io.neuronexplainer.scorer;

import io.neuronexplainer.runtime.BrokerLag;
import io.neuronexplainer.runtime.CliCommand;
import io.neuronexplainer.runtime.Connection;
import io.neuronexplainer.runtime.ConnectionOptions;
import io.neuronexplainer.runtime.MetricsOptions;
import io.neuronexplainer.runtime.MetricsServer;
import io.neuronexplainer.runtime.ServiceMain;
import java.nio.file.Path;
import java.time.Duration;
import io.neuronexplainer.schemas.Topics;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code neuron-explain score}: runs the score-aggregator until SIGTERM or until idle. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Join simulations with true activations, score explanations to neuron-scores, keep per-layer "
                + "aggregates, and serve the neuron viewer and JSON API over HTTP.")
public class ScoreCommand implements Callable<Integer>, CliCommand {
    @Mixin
    ConnectionOptions connection;

    @Option(names = "--http-port", defaultValue = "8080",
            description = "Port of the viewer and JSON API (default: ${DEFAULT-VALUE}; 0 = a free port; -1 = none).")
    int httpPort;

    @Option(names = "--http-host", defaultValue = "127.0.0.1",
            description = "Address the HTTP endpoints bind (default: ${DEFAULT-VALUE}; 0.0.0.0 in a container).")
    String httpHost;

    /** /metrics is also on --http-port; this port adds /health/live and /health/ready for probes. */
    @Mixin
    MetricsOptions metricsOptions;

    @Option(names = "--lag-every-s", defaultValue = "15", paramLabel = "SECONDS",
            description = "How often the scorer reads every consumer group's lag from the broker for "
                    + "kafka_group_lag_records (default: ${DEFAULT-VALUE}; 0 = off).")
    int lagEverySeconds;

    @Option(names = "--state-dir", defaultValue = ".neuron-explain/scorer-state",
            description = "Kafka Streams local state (default: ${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = "--application-id", defaultValue = "score-aggregator",
            description = "Kafka Streams application id: consumer group and internal topic prefix (default: ${DEFAULT-VALUE}).")
    String applicationId;

    @Option(names = "--threads", defaultValue = "0", description = "Stream threads; 0 = one per core, at most 6 (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--exit-when-idle", paramLabel = "SECONDS", defaultValue = "0",
            description = "Stop after this many seconds without a new score (default: run until SIGTERM).")
    int exitWhenIdle;

    @Option(names = "--session-timeout-ms", defaultValue = "15000",
            description = "How long the group waits for a vanished instance before moving its partitions (default: ${DEFAULT-VALUE}).")
    int sessionTimeoutMs;

    @Option(names = "--commit-interval-ms", defaultValue = "1000",
            description = "How often results are committed (exactly-once transactions) (default: ${DEFAULT-VALUE}).")
    int commitIntervalMs;

    @Option(names = "--orphan-timeout", defaultValue = "1h", paramLabel = "DURATION",
            description = "Dead-letter a simulation whose activations have not arrived after this long, to "
                    + "neuron-simulations-dlq with the reason (default: ${DEFAULT-VALUE}; seconds, 90s, 30m, 1h or PT1H). "
                    + "With --reuse-explanations, also the longest a neuron waits for its carried score before it is explained.")
    String orphanTimeout;

    @Option(names = "--reuse-explanations", description = "Explain only what changed: a neuron of a later checkpoint keeps "
            + "the earlier checkpoint's explanation (and its carried score) when that scores at least --reuse-threshold of its old "
            + "score on the new windows; the others go to the explainers on explanation-requests. The explainers must run with "
            + "--reuse-explanations too (off by default).")
    boolean reuseExplanations;

    @Option(names = "--reuse-threshold", defaultValue = "0.9",
            description = "Share of its old score a carried explanation must keep to be reused (default: ${DEFAULT-VALUE}).")
    double reuseThreshold;

    private Duration orphanTimeout() {
        try {
            return DurationText.parse(orphanTimeout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--orphan-timeout: " + e.getMessage());
        }
    }

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            if (exitWhenIdle < 0) {
                throw new IllegalArgumentException("--exit-when-idle must be >= 0, got " + exitWhenIdle);
            }
            ScorerSettings settings = new ScorerSettings(applicationId, stateDir, httpHost, httpPort,
                    ScorerSettings.threads(threads),
                    Map.of("consumer.session.timeout.ms", sessionTimeoutMs, "commit.interval.ms", commitIntervalMs), orphanTimeout(),
                    reuseExplanations ? reuseThreshold : null);
            CountDownLatch stop = new CountDownLatch(1);
            CountDownLatch closed = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                stop.countDown();
                try {
                    closed.await(40, TimeUnit.SECONDS); // let the scorer commit and close cleanly
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "scorer-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try (Connection c = connection.open();
                 MetricsServer metrics = metricsOptions.start("score-aggregator");
                 Scorer scorer = Scorer.start(c.clients(), settings, metrics.registry());
                 // The scorer is always up, so it publishes the pools' lag even while a pool has no consumer.
                 AutoCloseable lag = lagEverySeconds <= 0 ? () -> { } : BrokerLag.start(c.clients(), metrics.registry(),
                         Duration.ofSeconds(lagEverySeconds), Map.of(
                                 "explainer-worker", List.of(reuseExplanations ? Topics.EXPLANATION_REQUESTS : Topics.NEURON_ACTIVATIONS),
                                 "simulator-worker", List.of(Topics.SIMULATION_REQUESTS)))) {
                metrics.health(() -> scorer.failure() != null ? "failed: " + scorer.failure()
                        : scorer.streams().state() == KafkaStreams.State.RUNNING ? null : "streams " + scorer.streams().state());
                if (scorer.httpPort() >= 0) {
                    System.out.println("scorer http port: " + scorer.httpPort());
                    System.out.println("neuron viewer: http://" + httpHost + ":" + scorer.httpPort() + "/");
                }
                System.out.flush();
                double lastCount = -1;
                long lastChange = System.nanoTime();
                while (!stop.await(500, TimeUnit.MILLISECONDS)) {
                    if (scorer.failure() != null || !scorer.isRunning()) {
                        throw new IllegalStateException("scorer stopped: "
                                + (scorer.failure() == null ? scorer.streams().state() : scorer.failure().toString()));
                    }
                    double count = scorer.scoresComputed();
                    if (count != lastCount) {
                        lastCount = count;
                        lastChange = System.nanoTime();
                    } else if (exitWhenIdle > 0 && System.nanoTime() - lastChange > Duration.ofSeconds(exitWhenIdle).toNanos()) {
                        System.out.println("idle for " + exitWhenIdle + " s after " + (long) count + " score(s); stopping");
                        break;
                    }
                }
            } finally {
                closed.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // Already shutting down: the hook is running.
                }
            }
            return 0;
        });
    }
}
