package io.neuronexplainer.launcher.demo;

import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.explainer.Explainer;
import io.neuronexplainer.explainer.ExplainerBackendOptions;
import io.neuronexplainer.explainer.ExplainerWorker;
import io.neuronexplainer.explainer.Scorers;
import io.neuronexplainer.producer.CheckpointName;
import io.neuronexplainer.producer.CheckpointRunner;
import io.neuronexplainer.producer.PassSnapshotStore;
import io.neuronexplainer.producer.NeuronSelection;
import io.neuronexplainer.producer.ProduceSummary;
import io.neuronexplainer.producer.ProgressReporter;
import io.neuronexplainer.producer.corpus.CorpusSource;
import io.neuronexplainer.producer.model.DefaultModel;
import io.neuronexplainer.producer.model.Gpt2Config;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.runtime.EmbeddedRuntime;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.MetricsServer;
import io.neuronexplainer.runtime.ServiceMain;
import io.neuronexplainer.runtime.worker.TransactionalWorker;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.scorer.Exporter;
import io.neuronexplainer.scorer.LayerAggregate;
import io.neuronexplainer.scorer.Scorer;
import io.neuronexplainer.scorer.ScorerSettings;
import io.neuronexplainer.simulator.Judge;
import io.neuronexplainer.simulator.Simulator;
import io.neuronexplainer.simulator.SimulatorBackendOptions;
import io.neuronexplainer.simulator.SimulatorWorker;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The whole system in one command: an embedded broker and registry, the producer over a
 * checkpoint, the explainer and simulator workers, and the scorer, all in this JVM.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Explain and score every neuron of a model end to end on an embedded Kafka: producer, explainer, "
                + "simulator and scorer in one process; prints per-layer scores, the best neurons and the viewer's URL, "
                + "and writes the results as JSONL to results/.")
public class DemoCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", description = "Checkpoint folder (default: the repository's models/demo-gpt2/final).")
    Path model;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: found beside the model).")
    Path tokenizer;

    @Option(names = "--corpus", paramLabel = "PATH",
            description = "Text file, folder or JSONL (default: the English Europarl sample shipped with Lucene's test framework).")
    Path corpus;

    @Option(names = "--windows", defaultValue = "3000", paramLabel = "N",
            description = "64-token windows to read from the corpus (default: ${DEFAULT-VALUE}; 0 = all).")
    long windows;

    @Option(names = "--neurons", paramLabel = "L:A-B,...",
            description = "A subset of neurons, e.g. 0:0-99 (layer 0, neurons 0..99) or 0:0-9,5:100-199 or 2 (all of layer 2). Default: all.")
    String neurons;

    @Option(names = "--llm-base-url", paramLabel = "URL",
            description = "Use an OpenAI-compatible server instead of the offline method (API key from OPENAI_API_KEY).")
    String llmBaseUrl;

    @Option(names = "--explainer-model", defaultValue = ExplainerBackendOptions.DEFAULT_MODEL,
            description = "Explainer model with --llm-base-url (default: ${DEFAULT-VALUE}).")
    String explainerModel;

    @Option(names = "--simulator-model", description = "Simulator model with --llm-base-url (also the detection and "
            + "fuzzing judge's).")
    String simulatorModel;

    @Option(names = "--simulator-method", defaultValue = "chat-logprobs",
            description = "completions-echo, chat-logprobs or chat-json, with --llm-base-url (default: ${DEFAULT-VALUE}).")
    String simulatorMethod;

    @Option(names = "--scorers", defaultValue = "simulation", paramLabel = "KIND,...",
            description = "How each explanation is scored: simulation, detection, fuzzing, comma-separated (default: "
                    + "${DEFAULT-VALUE}). With more than one, the demo prints each scorer's mean, how they correlate across "
                    + "neurons and the LLM prompt tokens each takes per neuron.")
    String scorers;

    @Option(names = "--max-in-flight", defaultValue = "16", description = "LLM calls in flight per worker (default: ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--results", defaultValue = "results", paramLabel = "DIR", description = "Where the export goes (default: ${DEFAULT-VALUE}).")
    Path results;

    @Option(names = "--data-dir", defaultValue = ".neuron-explain/demo", paramLabel = "DIR",
            description = "The demo's broker data and state, emptied at start (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--http-port", defaultValue = "0", description = "Viewer port (default: a free one).")
    int httpPort;

    @Option(names = "--keep-running", description = "Keep the broker and the viewer up after the demo, until Ctrl-C.")
    boolean keepRunning;

    @Option(names = "--follow", description = "Play back a training run: write the demo model's checkpoints "
            + "(step-000300, step-001500, final) one after another into a watched folder; the watcher releases each, "
            + "the producer service runs it, and every checkpoint is explained and scored with nobody typing a command.")
    boolean follow;

    @Option(names = "--reuse-explanations", description = "With --follow: explain only what changed; a neuron whose "
            + "previous explanation, simulated on the new checkpoint, keeps at least --reuse-threshold of its old score "
            + "keeps that explanation, with no explainer call and no new simulation (off by default).")
    boolean reuseExplanations;

    @Option(names = "--reuse-threshold", defaultValue = "0.9", paramLabel = "SHARE",
            description = "The share of its old score a carried explanation must keep to be reused (default: ${DEFAULT-VALUE}).")
    double reuseThreshold;

    @Option(names = "--timeout-s", defaultValue = "600", description = "Give up when scoring has not finished after this long (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    /** The demo model's checkpoints a --follow run plays back, in training order. */
    static final List<String> FOLLOWED = List.of("step-000300", "step-001500", "final");
    private static final SamplingSettings SAMPLING = SamplingSettings.defaults();

    @Override
    public Integer call() {
        return ServiceMain.run(this::run);
    }

    private int run() throws Exception {
        PrintStream out = System.out;
        Path modelDir = model != null ? model : DefaultModel.folder();
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException("--model " + modelDir + ": no such folder");
        }
        if (neurons != null) {
            NeuronSelection.parse(neurons); // a bad --neurons fails here, before anything starts
        }
        if (reuseExplanations && !follow) {
            throw new IllegalArgumentException("--reuse-explanations needs --follow: reuse carries explanations from one "
                    + "checkpoint to the next");
        }
        Scorers chosen = Scorers.parse(scorers);
        CorpusSource source = CorpusSource.of(corpus);
        deleteRecursively(dataDir);
        StageClock clock = new StageClock();

        try (EmbeddedRuntime runtime = EmbeddedRuntime.start(dataDir, 0, 0);
             MetricsServer metrics = MetricsServer.start("demo", "127.0.0.1", -1)) {
            clock.done("broker + registry");
            KafkaClients clients = new KafkaClients(runtime.bootstrapServers(), runtime.registryUrl());
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 6, (short) 1, KafkaClients.CONNECT_TIMEOUT_MS);
            }
            // Snapshots only of finished passes (for the merge), none during: the demo's passes are short.
            CheckpointRunner runner = new CheckpointRunner(clients, source, null, SAMPLING, windows, 16, neurons,
                    null, true, ProgressReporter::forThisProcess, new CheckpointRunner.Resilience(
                            new PassSnapshotStore(dataDir.resolve("snapshots")), java.time.Duration.ZERO, 1, false));
            MeterRegistry meters = metrics.registry();
            ScorerSettings scorerSettings = ScorerSettings.defaults("neuron-scorer-demo", dataDir.resolve("scorer-state"))
                    .withHttpPort(httpPort).withReuse(reuseExplanations ? reuseThreshold : null);
            try (Scorer scorer = Scorer.start(clients, scorerSettings, meters);
                 FinishedNeurons finished = new FinishedNeurons(clients, scorer);
                 Explainer explainer = explainerOptions().create(meters);
                 Simulator simulator = simulatorOptions().create(meters);
                 Judge judge = simulatorOptions().createJudge(meters)) {
                TransactionalWorker<?, ?> explainers = ExplainerWorker.create(clients, reuseExplanations
                        ? ExplainerWorker.reuseSettings(maxInFlight) : ExplainerWorker.settings(maxInFlight), explainer, chosen,
                        meters);
                TransactionalWorker<?, ?> simulators = SimulatorWorker.create(clients, SimulatorWorker.settings(maxInFlight), simulator,
                        judge, meters);
                // The producer on a thread of its own, once everything that can refuse its options has
                // started: its set-up (corpus fingerprint, model load) overlaps the workers' group joins.
                CompletableFuture<ProduceSummary> produced = follow ? null : produce(runner, modelDir, clock);
                Thread explainerThread = start("explainer-worker", explainers::run);
                Thread simulatorThread = start("simulator-worker", simulators::run);
                try {
                    if (follow) {
                        runFollow(out, clients, runner, meters, scorer, finished, clock, modelDir);
                    } else {
                        runOne(out, clients, await(produced), scorer, finished, explainers, simulators, clock, chosen);
                    }
                    out.printf("viewer:   http://127.0.0.1:%d/%n", scorer.httpPort());
                    out.printf("wall time: %.1f s in all%n", clock.elapsed());
                    out.flush();
                    if (keepRunning) {
                        out.println("--keep-running: the viewer stays up; Ctrl-C stops.");
                        CountDownLatch forever = new CountDownLatch(1);
                        Runtime.getRuntime().addShutdownHook(new Thread(forever::countDown));
                        forever.await();
                    }
                } finally {
                    explainers.stop();
                    simulators.stop();
                    explainerThread.join(30_000);
                    simulatorThread.join(30_000);
                }
            }
        }
        return 0;
    }

    /** Runs the producer over the one checkpoint on a thread of its own; the stage clock marks its end. */
    private CompletableFuture<ProduceSummary> produce(CheckpointRunner runner, Path modelDir, StageClock clock) {
        CompletableFuture<ProduceSummary> done = new CompletableFuture<>();
        start("activation-producer", () -> {
            try {
                CheckpointName names = CheckpointName.fromFolder(modelDir);
                ProduceSummary summary = runner.run(new CheckpointRunner.Checkpoint(modelDir, tokenizer, names.model(),
                        names.checkpoint(), null)).summary();
                clock.done("producer");
                done.complete(summary);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    /** The producer's summary, or its failure as thrown on its own thread. */
    private static ProduceSummary await(CompletableFuture<ProduceSummary> produced) throws Exception {
        try {
            return produced.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    private void runOne(PrintStream out, KafkaClients clients, ProduceSummary produced, Scorer scorer,
                        FinishedNeurons finished, TransactionalWorker<?, ?> explainers, TransactionalWorker<?, ?> simulators,
                        StageClock clock, Scorers chosen) throws Exception {
        awaitStages(clock, produced.run().model(), produced.neuronsEmitted(), explainers, simulators, scorer, finished);
        out.println();
        report(out, scorer, produced, clock);
        out.println();
        reportDeadLetters(out, finished, produced.run().model());
        if (chosen.kinds().size() > 1) {
            out.println();
            compareScorers(out, clients, scorer, produced.run().model(), produced.neuronsEmitted(), finished, chosen, clock);
        }
        long exportStart = System.nanoTime();
        Path file = exportResults(scorer, produced.run().model() + "-" + produced.run().checkpoint());
        out.printf("results:  %s (%,d lines, written in %.1f s)%n", file, Files.lines(file).count(),
                (System.nanoTime() - exportStart) / 1e9);
    }

    /** The training run played back: three checkpoints through the watcher and the producer service. */
    private void runFollow(PrintStream out, KafkaClients clients, CheckpointRunner runner, MeterRegistry meters,
                           Scorer scorer, FinishedNeurons finished, StageClock clock, Path modelDir) throws Exception {
        Path demoModel = model != null ? modelDir.getParent() : DefaultModel.folder().getParent();
        List<Path> checkpoints = FOLLOWED.stream().map(demoModel::resolve).toList();
        for (Path c : checkpoints) {
            if (!Files.isDirectory(c)) {
                throw new IllegalArgumentException("--follow plays back " + FOLLOWED + " from " + demoModel + ": " + c
                        + " is missing");
            }
        }
        Gpt2Config config = Gpt2Config.read(checkpoints.get(0).resolve("config.json"));
        long perCheckpoint = neurons == null ? (long) config.layers() * config.inner()
                : NeuronSelection.parse(neurons).count(config.inner());
        Path tokenizerFile = tokenizer != null ? tokenizer : demoModel.resolve("tokenizer.json");
        long timeout = timeoutSeconds * 1_000_000_000L;
        try (TrainingRunDemo run = new TrainingRunDemo(clients, dataDir.resolve("training-run").resolve(
                demoModel.getFileName().toString()), tokenizerFile, runner, meters)) {
            run.playBack(checkpoints, clock, out, timeout);
            run.awaitScores(scorer, finished, perCheckpoint, clock, timeout);
            clock.done("all checkpoints scored");
            out.println();
            out.printf("%s: %d checkpoints x %,d neurons explained and scored%n", run.model(), checkpoints.size(), perCheckpoint);
            reportDeadLetters(out, finished, run.model());
            out.println();
            reportPerCheckpoint(out, scorer, run.model(), FOLLOWED);
            out.println();
            out.println("checkpoint     written  released  first score  all scored   (s from start; first score - written = delay)");
            run.timelines().forEach((name, t) -> out.printf("%-13s %8.1f %9.1f %12.1f %11.1f   delay %.1f s%n", name,
                    t.written, t.released, t.firstScore, t.allScored, t.firstScore - t.written));
            out.println();
            try (DriftReport drift = new DriftReport(clients)) {
                long pairs = DriftReport.expectedPairs(FOLLOWED, perCheckpoint, finished.unscored(run.model()));
                if (!drift.await(run.model(), pairs, Math.min(timeout, 120_000_000_000L))) {
                    out.printf("drift: %,d of %,d neuron pairs have every figure yet (carried simulations still running)%n",
                            drift.complete(run.model()), pairs);
                }
                clock.done("drift across checkpoints");
                drift.print(out, run.model(), FOLLOWED, 5);
                if (reuseExplanations) {
                    out.println();
                    printTokens(out, drift, scorer, run.model());
                }
            }
            long exportStart = System.nanoTime();
            Path file = exportResults(scorer, run.model() + "-follow");
            out.printf("results:  %s (%,d lines, written in %.1f s)%n", file, Files.lines(file).count(),
                    (System.nanoTime() - exportStart) / 1e9);
        }
    }

    /**
     * The LLM prompt tokens of each checkpoint pair with and without reuse: as the LLM reported them,
     * or, for a run with the offline methods, counted on the chat prompts an LLM run would send.
     */
    private void printTokens(PrintStream out, DriftReport drift, Scorer scorer, String modelName) {
        if (llmBaseUrl != null) {
            out.println("LLM prompt tokens of each later checkpoint, as the LLM reported them:");
            drift.printTokens(out, modelName, FOLLOWED, d -> d);
        } else {
            String simModel = simulatorModel != null ? simulatorModel : SimulatorBackendOptions.DEFAULT_CHAT_MODEL;
            ChatPromptEstimate estimate = new ChatPromptEstimate(scorer.stores(), explainerModel, simModel);
            out.printf("LLM prompt tokens of each later checkpoint, counted on the chat prompts an LLM run would send "
                    + "(explainer %s, simulator chat-logprobs %s; %s):%n", explainerModel, simModel, estimate.encodings());
            drift.printTokens(out, modelName, FOLLOWED, estimate::counted);
        }
    }

    /**
     * Waits for every neuron's score of each chosen kind (the simulation scores are in already), then
     * prints how the scorers compare. A kind whose scores stop coming (dead letters) is shown as far as it got.
     */
    private void compareScorers(PrintStream out, KafkaClients clients, Scorer scorer, String modelName, long expected,
                                FinishedNeurons finished, Scorers chosen, StageClock clock) {
        long want = expected - finished.unscored(modelName).size();
        try (ScorerComparison comparison = new ScorerComparison(clients)) {
            long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
            long quietSince = System.nanoTime();
            long lastTotal = -1;
            while (System.nanoTime() < deadline) {
                comparison.poll(java.time.Duration.ofMillis(200));
                long total = 0;
                boolean all = true;
                for (String kind : chosen.kinds()) {
                    long n = comparison.count(modelName, kind);
                    total += n;
                    all &= n >= want;
                }
                if (all) {
                    break;
                }
                if (total != lastTotal) {
                    lastTotal = total;
                    quietSince = System.nanoTime();
                } else if (System.nanoTime() - quietSince > 30_000_000_000L) {
                    break; // nothing new for 30 s: the rest were dead-lettered (reported above)
                }
            }
            clock.done("all scorers");
            String simModel = simulatorModel != null ? simulatorModel : SimulatorBackendOptions.DEFAULT_CHAT_MODEL;
            if (llmBaseUrl != null) {
                comparison.print(out, modelName, chosen.kinds(), comparison::reportedTokens, "prompt tokens as the LLM reported them");
            } else {
                ScorerPromptEstimate estimate = new ScorerPromptEstimate(scorer.stores(), simModel);
                comparison.print(out, modelName, chosen.kinds(), estimate::tokens,
                        "prompt tokens counted on the chat prompts an LLM run would send: simulation chat-logprobs, "
                                + "detection and fuzzing the chat judge, all of a neuron's windows in one call; " + simModel
                                + ", " + estimate.encoding());
            }
        }
    }

    /** Per-layer mean scores, one column per checkpoint. */
    private static void reportPerCheckpoint(PrintStream out, Scorer scorer, String modelName, List<String> checkpoints) {
        Map<String, Map<Integer, LayerAggregate>> byCheckpoint = new LinkedHashMap<>();
        for (LayerAggregate layer : scorer.stores().layers()) {
            if (layer.model().equals(modelName)) {
                byCheckpoint.computeIfAbsent(layer.checkpoint(), c -> new TreeMap<>()).put(layer.layer(), layer);
            }
        }
        out.print("mean score per layer:\nlayer");
        checkpoints.forEach(c -> out.printf("  %12s", c));
        out.println();
        java.util.SortedSet<Integer> layers = new java.util.TreeSet<>();
        byCheckpoint.values().forEach(m -> layers.addAll(m.keySet()));
        for (int l : layers) {
            out.printf("%5d", l);
            for (String c : checkpoints) {
                LayerAggregate a = byCheckpoint.getOrDefault(c, Map.of()).get(l);
                out.printf("  %12s", a == null ? "-" : String.format("%.3f", a.mean()));
            }
            out.println();
        }
    }

    /**
     * Waits until every neuron is finished: scored, or named by a dead letter on any -dlq topic
     * (it will get no score), as committed downstream. The worker counters only time the stages:
     * {@code done()} already counts a worker's dead letters, and the simulator never sees a neuron
     * the explainer dead-lettered.
     */
    private void awaitStages(StageClock clock, String modelName, long expected, TransactionalWorker<?, ?> explainers,
                             TransactionalWorker<?, ?> simulators, Scorer scorer, FinishedNeurons finished) {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        while (true) {
            finished.poll(java.time.Duration.ofMillis(100));
            if (explainers.done() >= expected) {
                clock.done("explainer");
            }
            if (simulators.done() + finished.deadLetteredFrom(Topics.NEURON_ACTIVATIONS) >= expected) {
                clock.done("simulator");
            }
            if (finished.count(modelName) >= expected) {
                clock.done("explainer");
                clock.done("simulator");
                clock.done("scorer");
                return;
            }
            if (scorer.failure() != null) {
                throw new IllegalStateException("the scorer failed: " + scorer.failure().getMessage());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("scoring did not finish within " + timeoutSeconds + " s: explained "
                        + explainers.done() + ", simulated " + simulators.done() + ", " + finished.summary(modelName)
                        + " of " + expected + " neurons");
            }
        }
    }

    /** The neurons scored and dead-lettered, and the first dead-lettered ones with their stage and reason. */
    private static void reportDeadLetters(PrintStream out, FinishedNeurons finished, String modelName) {
        out.println("neurons:  " + finished.summary(modelName));
        List<FinishedNeurons.Letter> dead = finished.unscored(modelName);
        for (FinishedNeurons.Letter l : dead.subList(0, Math.min(10, dead.size()))) {
            String reason = l.reason() == null ? "" : l.reason().replaceAll("\\s+", " ");
            out.printf("  %s %d:%-5d %s: %s%n", l.neuron().getCheckpoint(), l.neuron().getLayer(), l.neuron().getNeuron(),
                    l.stage(), reason.length() > 160 ? reason.substring(0, 160) + "..." : reason);
        }
        if (dead.size() > 10) {
            out.printf("  ... and %,d more%n", dead.size() - 10);
        }
    }

    private void report(PrintStream out, Scorer scorer, ProduceSummary produced, StageClock clock) {
        out.printf("%s / %s over %s: %,d windows, %,d tokens, %,d neurons%n", produced.run().model(),
                produced.run().checkpoint(), produced.run().corpus(), produced.pass().windows(), produced.pass().tokens(),
                produced.neuronsEmitted());
        out.println();
        out.println("layer  neurons  mean score  p50     p90     >= 0.8");
        for (LayerAggregate layer : scorer.stores().layers().stream()
                .sorted(Comparator.comparingInt(LayerAggregate::layer)).toList()) {
            out.printf("%5d  %7d  %10.3f  %6.3f  %6.3f  %6d%n", layer.layer(), layer.count(), layer.mean(),
                    layer.p50(), layer.p90(), layer.atLeastGood());
        }
        out.println();
        out.println("best 10 neurons (top-and-random correlation):");
        List<NeuronScore> best = scorer.stores().bestScores(produced.run().model(), produced.run().checkpoint(), null, -1.0, 10);
        for (NeuronScore s : best) {
            out.printf("  %d:%-5d %.3f  %s%n", s.getNeuron().getLayer(), s.getNeuron().getNeuron(), s.getCorrelation(),
                    s.getExplanationText().strip());
        }
        out.println();
        out.println("wall time per stage (from the start; stages overlap as records stream):");
        clock.stages().forEach((stage, seconds) -> out.printf("  %-18s %6.1f s%n", stage, seconds));
    }

    private Path exportResults(Scorer scorer, String name) throws IOException {
        Files.createDirectories(results);
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path file = results.resolve(name + "-" + stamp + ".jsonl");
        Exporter.export(scorer, file);
        return file;
    }

    private ExplainerBackendOptions explainerOptions() {
        return llmBaseUrl == null ? ExplainerBackendOptions.offline() : ExplainerBackendOptions.openai(llmBaseUrl, explainerModel);
    }

    /** With an LLM, the detection and fuzzing judge is the simulator's model when one is named: one server, one model. */
    private SimulatorBackendOptions simulatorOptions() {
        return llmBaseUrl == null ? SimulatorBackendOptions.offline()
                : SimulatorBackendOptions.openai(llmBaseUrl, simulatorMethod, simulatorModel).judgeModel(simulatorModel);
    }

    private static Thread start(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }


    /** Empties the demo's data folder, but only one an earlier demo made: never a user's other files. */
    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        boolean empty;
        try (Stream<Path> entries = Files.list(dir)) {
            empty = entries.findAny().isEmpty();
        }
        if (!empty && !Files.exists(dir.resolve("kafka").resolve("controller.port"))) {
            throw new IllegalArgumentException("--data-dir " + dir + " is not empty and holds no earlier demo's data; "
                    + "give a new or empty folder");
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
