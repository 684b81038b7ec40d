package io.neuronexplainer.producer;

import io.neuronexplainer.producer.corpus.CorpusSource;
import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.producer.model.DefaultModel;
import io.neuronexplainer.producer.model.Gpt2Model;
import io.neuronexplainer.producer.model.Gpt2Tokenizer;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.runtime.CliCommand;
import io.neuronexplainer.runtime.Connection;
import io.neuronexplainer.runtime.ConnectionOptions;
import io.neuronexplainer.runtime.MetricsOptions;
import io.neuronexplainer.runtime.MetricsServer;
import io.neuronexplainer.runtime.ServiceMain;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code neuron-explain produce}: runs a GPT-2 checkpoint over a corpus and emits one record per neuron. */
@Command(name = "produce", mixinStandardHelpOptions = true,
        description = "Run a GPT-2 checkpoint over a corpus in 64-token windows, keep each MLP neuron's top-K and "
                + "a shared random sample of windows, and emit one NeuronActivations record per neuron "
                + "(plus CheckpointRun records) to Kafka.")
public class ProduceCommand implements Callable<Integer>, CliCommand {
    @Option(names = "--model", paramLabel = "DIR",
            description = "Checkpoint folder (config.json + model.safetensors). Default: the repository's models/demo-gpt2/final.")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json. Default: the model folder's, else its parent folder's.")
    Path tokenizer;

    @Option(names = "--corpus", paramLabel = "PATH",
            description = "A text file, a folder of text files, or a .jsonl file with a \"text\" field per line. "
                    + "Default: the English Europarl sample (about 1,270 documents, no download).")
    Path corpus;

    @Option(names = "--windows", paramLabel = "N", defaultValue = "0",
            description = "Stop after N windows (default: the whole corpus).")
    long windows;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "20",
            description = "Top-activating windows kept per neuron (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--explain-top", paramLabel = "E", defaultValue = "5",
            description = "Top windows the explainer sees (default: ${DEFAULT-VALUE}).")
    int explainTop;

    @Option(names = "--score-top", paramLabel = "S", defaultValue = "5",
            description = "Other top windows used for scoring (default: ${DEFAULT-VALUE}).")
    int scoreTop;

    @Option(names = "--random", paramLabel = "R", defaultValue = "5",
            description = "Random windows (shared by all neurons) used for scoring (default: ${DEFAULT-VALUE}).")
    int random;

    @Option(names = "--drift-windows", paramLabel = "D", defaultValue = "" + SamplingSettings.DRIFT_WINDOWS,
            description = "The shared random sample holds at least D windows (and at least what scoring needs), "
                    + "the same for every checkpoint of a series: each record's random_window_maxima gives the "
                    + "neuron's max on every one of them, to follow drift (default: ${DEFAULT-VALUE}).")
    int driftWindows;

    @Option(names = "--layers", paramLabel = "L,L,...", split = ",",
            description = "Layers to record, e.g. 0,3 (default: all).")
    int[] layers;

    @Option(names = "--neurons", paramLabel = "L:A-B,...",
            description = "Emit only these neurons, e.g. 0:0-99 (layer 0, neurons 0..99), 0:0-9,5:100-199, or 2 (all of layer 2). "
                    + "Only their layers are run. Default: all.")
    String neurons;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "16",
            description = "Windows per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
            description = "Seed of the random window sample, mixed with the corpus's fingerprint so every checkpoint "
                    + "of a series samples the same windows (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--model-name", description = "Model name in the records (default: the model folder's parent's name).")
    String modelName;

    @Option(names = "--checkpoint-name", description = "Checkpoint name in the records (default: the model folder's name).")
    String checkpointName;

    @Option(names = "--corpus-name", description = "Corpus name in the records (default: the corpus file's or folder's name, or europarl-en).")
    String corpusName;

    @Option(names = "--follow",
            description = "Run as a service: consume released checkpoints (topic checkpoints, from `neuron-explain watch`) "
                    + "in a consumer group and run each once with this corpus and these settings, until stopped.")
    boolean follow;

    @Option(names = "--force", description = "Run a checkpoint again even when the same run (same checkpoint, corpus and "
            + "settings) already COMPLETED. Stages downstream still make no second record of an identity.")
    boolean force;

    @Option(names = "--keep-files", description = "Keep a run's snapshots and (with --follow) a downloaded checkpoint's "
            + "files after the run completed (default: delete them).")
    boolean keepFiles;

    @Option(names = "--group-id", defaultValue = CheckpointFollower.GROUP,
            description = "With --follow: the consumer group instances share checkpoints in (default: ${DEFAULT-VALUE}).")
    String groupId;

    @Option(names = "--instance-id", defaultValue = "${env:NEURON_INSTANCE_ID}",
            description = "With --follow: a stable instance id (e.g. the pod name) so a restart keeps its partitions. "
                    + "Env: NEURON_INSTANCE_ID.")
    String instanceId;

    @Option(names = "--snapshot-dir", paramLabel = "DIR",
            description = "Where the pass state is snapshotted, so a pass cut short is continued, by this producer or "
                    + "another, from its last snapshot (with several producers: a folder they share; default: "
                    + "<data-dir>/snapshots).")
    Path snapshotDir;

    @Option(names = "--snapshot-every", paramLabel = "SECONDS", defaultValue = "120",
            description = "Seconds of pass between snapshots; at most this much work is redone after a crash "
                    + "(default: ${DEFAULT-VALUE}; 0 = no snapshots).")
    long snapshotEverySeconds;

    @Option(names = "--shards", defaultValue = "1",
            description = "With --follow: split each checkpoint's pass into this many shards for the group's producers "
                    + "to share; the last to finish merges them (default: ${DEFAULT-VALUE}).")
    int shards;

    @Mixin
    MetricsOptions metricsOptions;

    @Mixin
    ConnectionOptions connection;

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            long start = System.nanoTime();
            SamplingSettings settings = new SamplingSettings(SamplingSettings.WINDOW_TOKENS, topK, explainTop,
                    scoreTop, random, driftWindows, seed);
            CorpusSource source = CorpusSource.of(corpus); // checks the path before anything starts
            if (follow && (model != null || modelName != null || checkpointName != null)) {
                throw new IllegalArgumentException("--follow takes its checkpoints from the watcher: "
                        + "give no --model, --model-name or --checkpoint-name");
            }
            Path modelDir = model != null ? model : DefaultModel.folder();
            if (!follow && !Files.isDirectory(modelDir)) {
                throw new IllegalArgumentException("--model " + modelDir + ": no such folder");
            }
            try (Connection kafka = connection.open();
                 MetricsServer metrics = metricsOptions.start(ActivationProducer.STAGE)) {
                if (snapshotEverySeconds < 0) {
                    throw new IllegalArgumentException("--snapshot-every must be >= 0, not " + snapshotEverySeconds);
                }
                if (shards > 1 && !follow) {
                    throw new IllegalArgumentException("--shards splits the pass among the producers of a group: use it with --follow");
                }
                Path snapshots = snapshotDir != null ? snapshotDir : connection.dataDir().resolve("snapshots");
                CheckpointRunner.Resilience resilience = new CheckpointRunner.Resilience(new PassSnapshotStore(snapshots),
                        Duration.ofSeconds(snapshotEverySeconds), shards, keepFiles);
                CheckpointRunner runner = new CheckpointRunner(kafka.clients(), source, corpusName, settings, windows,
                        batch, neurons, layers, force, ProgressReporter::forThisProcess, resilience);
                runner.corpusFingerprint(); // an unreadable corpus fails here, before any checkpoint
                runner.meters(new ProducerMeters(metrics.registry()));
                if (follow) {
                    return follow(kafka, runner, metrics);
                }
                metrics.health(() -> null);
                CheckpointName names = CheckpointName.fromFolder(modelDir);
                CheckpointRunner.Outcome outcome = runner.run(new CheckpointRunner.Checkpoint(modelDir, tokenizer,
                        modelName != null ? modelName : names.model(),
                        checkpointName != null ? checkpointName : names.checkpoint(), null));
                if (outcome.skipped()) {
                    System.out.printf("run %s: %s / %s over %s already COMPLETED at %s (%,d neurons); nothing to do "
                                    + "(--force runs it again)%n", outcome.run().runId(), outcome.run().model(),
                            outcome.run().checkpoint(), outcome.run().corpus(), outcome.completedBefore().getUpdatedAt(),
                            outcome.completedBefore().getNeuronsEmitted());
                } else {
                    print(System.out, outcome.summary(), (System.nanoTime() - start) / 1e9);
                }
            }
            return 0;
        });
    }

    private int follow(Connection kafka, CheckpointRunner runner, MetricsServer metrics) {
        try (CheckpointFollower follower = new CheckpointFollower(kafka.clients(), runner, groupId, instanceId, keepFiles)) {
            // A pass polls every 200 ms to keep its membership: a minute without a poll means the broker is gone.
            metrics.health(() -> follower.notReady(Duration.ofSeconds(60)));
            Thread main = Thread.currentThread();
            Thread hook = new Thread(() -> {
                follower.stop();
                try {
                    main.join(30_000);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            });
            Runtime.getRuntime().addShutdownHook(hook);
            follower.run();
            System.out.printf("followed checkpoints: %,d run, %,d already done, %,d failed%n", follower.completed(),
                    follower.skipped(), follower.failed());
        }
        return 0;
    }

    static void print(PrintStream out, ProduceSummary s, double wallSeconds) {
        long peak = PeakMemory.kib();
        out.printf("run %s: %s / %s over %s%n", s.run().runId(), s.run().model(), s.run().checkpoint(), s.run().corpus());
        out.printf("neurons emitted: %,d%n", s.neuronsEmitted());
        out.printf("documents:       %,d%n", s.pass().documents());
        out.printf("windows:         %,d%n", s.pass().windows());
        out.printf("tokens:          %,d (%,.0f tokens/s in the pass: forward + top-K + sampling)%n",
                s.pass().tokens(), s.pass().tokensPerSecond());
        out.printf("wall time:       %.1f s (pass %.1f s, whole run %.1f s)%n", wallSeconds, s.pass().seconds(), s.seconds());
        out.printf("peak resident:   %s%n", peak < 0 ? "unknown" : String.format("%,d KiB (%.1f MiB, VmHWM)", peak, peak / 1024.0));
    }
}
