package io.neuronexplainer.bench.chaos;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.producer.CheckpointName;
import io.neuronexplainer.producer.CheckpointRunner;
import io.neuronexplainer.producer.ProgressReporter;
import io.neuronexplainer.producer.corpus.CorpusSource;
import io.neuronexplainer.producer.model.DefaultModel;
import io.neuronexplainer.producer.model.Gpt2Config;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Topics;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;

/**
 * One chaos run: three brokers and the registry, the faulty LLM, two scorers, three explainer and
 * three simulator workers (one of each a killable process), and the producer over the demo model;
 * while neurons flow it kills worker processes, stops and starts a broker, restarts the registry
 * and writes undecodable records; then it counts every committed score per neuron and checks every
 * dead letter against the injected records.
 */
public final class ChaosRun {
    /** What a run found; {@link #lastLine} is the figure line, {@link #holds} whether exactly-once held. */
    public record Outcome(ScoreCensus.Tally scores, DeadLetterCensus.Verdict deadLetters, int expectedDeadLetters, int kills,
                          int brokerRestarts, int registryRestarts, double seconds, String failure) {
        public boolean holds() {
            return failure == null;
        }

        public int lost() {
            return scores.lost();
        }

        public int duplicated() {
            return scores.duplicated();
        }

        public String lastLine() {
            return String.format("neurons=%d scored_once=%d lost=%d duplicated=%d dead_letters=%d expected_dead_letters=%d "
                            + "kills=%d broker_restarts=%d registry_restarts=%d", scores.neurons(), scores.scoredOnce(), scores.lost(),
                    scores.duplicated(), deadLetters.deadLetters(), expectedDeadLetters, kills, brokerRestarts, registryRestarts);
        }
    }

    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(10);
    /** At least this long between two faults, so a restarted process is back before the next one. */
    private static final Duration FAULT_GAP = Duration.ofSeconds(4);

    private final ChaosSettings settings;
    private final PrintStream out;
    private final long start = System.nanoTime();
    private final AtomicInteger scored = new AtomicInteger();
    private final AtomicInteger kills = new AtomicInteger();
    private final AtomicInteger brokerRestarts = new AtomicInteger();
    private final AtomicInteger registryRestarts = new AtomicInteger();
    private final PoisonRecords poison = new PoisonRecords();
    private volatile boolean tearingDown;

    public ChaosRun(ChaosSettings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    private double elapsed() {
        return (System.nanoTime() - start) / 1e9;
    }

    private void say(String format, Object... args) {
        out.printf("t=%5.1fs %s%n", elapsed(), String.format(format, args));
        out.flush();
    }

    public Outcome run() throws Exception {
        Path modelDir = DefaultModel.folder();
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException("the demo model is not at " + modelDir + " (set -Dneuron.project.root)");
        }
        Gpt2Config config = Gpt2Config.read(modelDir.resolve("config.json"));
        int all = config.layers() * config.inner();
        if (settings.neurons() > all) {
            throw new IllegalArgumentException("--neurons " + settings.neurons() + ": the demo model has " + all);
        }
        CheckpointName names = CheckpointName.fromFolder(modelDir);
        List<String> expected = neurons(names, settings.neurons(), config.inner());
        String selection = selection(settings.neurons(), config.inner());
        Path dir = settings.dir();
        Files.createDirectories(dir);
        int expectedLetters = PoisonRecords.expectedDeadLetters(settings.poisonPerTopic());
        say("bench chaos: %d neurons of %s/%s, %d kills, seed %d, LLM fault rate %.3f, data in %s", settings.neurons(),
                names.model(), names.checkpoint(), settings.kills(), settings.seed(), settings.faultRate(), dir);

        try (ChaosCluster cluster = ChaosCluster.start(dir.resolve("cluster"))) {
            say("3 brokers (replication 3, min ISR 2), a controller and the registry are up");
            KafkaClients clients = cluster.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, settings.partitions(), (short) 3, KafkaClients.CONNECT_TIMEOUT_MS);
            }
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            int inFlight = 2 * settings.workersPerStage() * settings.maxInFlight();
            try (FaultyOpenAiServer llm = FaultyOpenAiServer.start(settings.llmLatencyMs(), settings.llmTimeoutS() * 1000L + 2000,
                    settings.faultRate(), settings.seed(), inFlight);
                 ScoreCensus scores = new ScoreCensus(clients);
                 DeadLetterCensus letters = new DeadLetterCensus(clients);
                 ChaosScorers scorers = new ChaosScorers(clients, 2, dir, out);
                 ChaosWorkers workers = new ChaosWorkers(clients, settings, llm.baseUrl(), dir, meters, out)) {
                scorers.start();
                workers.start();
                say("2 scorers, %d explainer and %d simulator workers (one of each a process) started; LLM at %s",
                        settings.workersPerStage(), settings.workersPerStage(), llm.baseUrl());
                CompletableFuture<Long> produced = CompletableFuture.supplyAsync(() -> produce(clients, modelDir, names, selection),
                        thread("chaos-producer"));
                CompletableFuture<Void> chaos = CompletableFuture.runAsync(() -> chaos(cluster, workers, clients, settings.neurons()),
                        thread("chaos-faults"));
                String failure = await(scores, letters, scorers, workers, llm, produced, chaos, expectedLetters);
                tearingDown = true;
                ScoreCensus.Tally tally = scores.tally(expected);
                DeadLetterCensus.Verdict verdict = letters.verdict(poison.injected(), PoisonRecords.READERS);
                say("llm: %d calls, faults %s; restarts nobody asked for: %d worker, %d scorer", llm.calls(), llm.summary(),
                        workers.unplannedRestarts(), scorers.restarts());
                for (String neuron : tally.lostNeurons().subList(0, Math.min(10, tally.lostNeurons().size()))) {
                    out.println("lost: " + neuron);
                }
                for (String neuron : tally.duplicatedNeurons().subList(0, Math.min(10, tally.duplicatedNeurons().size()))) {
                    out.println("duplicated: " + neuron);
                }
                verdict.problems().forEach(p -> out.println("dead letters: " + p));
                failure = verdictLine(failure, tally, verdict, expectedLetters);
                return new Outcome(tally, verdict, expectedLetters, kills.get(), brokerRestarts.get(), registryRestarts.get(), elapsed(),
                        failure);
            } finally {
                tearingDown = true;
            }
        }
    }

    /** Waits until every neuron is scored, every fault done and every dead letter in; returns why not, or null. */
    private String await(ScoreCensus scores, DeadLetterCensus letters, ChaosScorers scorers, ChaosWorkers workers,
                         FaultyOpenAiServer llm, CompletableFuture<Long> produced, CompletableFuture<Void> chaos,
                         int expectedLetters) throws Exception {
        long deadline = start + Duration.ofSeconds(settings.timeoutS()).toNanos();
        long nextProgress = System.nanoTime() + PROGRESS_EVERY.toNanos();
        Long settledSince = null;
        // After the last neuron's score, wait past the transaction timeout: a late duplicate would be committed by then.
        long settle = Duration.ofSeconds(settings.transactionTimeoutS() + 5).toNanos();
        String failure = null;
        while (true) {
            scores.poll(Duration.ofMillis(200));
            letters.poll(Duration.ofMillis(50));
            scored.set(scores.scored());
            scorers.restartStopped();
            long now = System.nanoTime();
            if (now >= nextProgress) {
                nextProgress = now + PROGRESS_EVERY.toNanos();
                say("scored=%d/%d score_records=%d dead_letters=%d/%d kills=%d broker_restarts=%d registry_restarts=%d "
                                + "llm_calls=%d llm_faults=[%s]", scores.scored(), settings.neurons(), scores.records(), letters.count(),
                        expectedLetters, kills.get(), brokerRestarts.get(), registryRestarts.get(), llm.calls(), llm.summary());
            }
            if (produced.isCompletedExceptionally() || chaos.isCompletedExceptionally()) {
                CompletableFuture<?> failed = produced.isCompletedExceptionally() ? produced : chaos;
                try {
                    failed.join();
                } catch (RuntimeException e) {
                    Throwable cause = e.getCause() == null ? e : e.getCause();
                    failure = (failed == produced ? "the producer failed: " : "a fault could not be carried out: ") + cause;
                }
                break;
            }
            boolean done = scores.scored() >= settings.neurons() && chaos.isDone() && produced.isDone()
                    && letters.count() >= expectedLetters;
            if (done && settledSince == null) {
                settledSince = now;
                say("every neuron scored and every fault done; waiting %d s for anything late", settle / 1_000_000_000L);
            }
            if (settledSince != null && now - settledSince >= settle) {
                break;
            }
            if (now > deadline) {
                failure = "the run did not finish within --timeout-s " + settings.timeoutS();
                break;
            }
        }
        tearingDown = true;
        // Read both censuses up to what is committed now, so the count covers every record.
        long caughtUpBy = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        boolean caughtUp = false;
        while (System.nanoTime() < caughtUpBy && !caughtUp) {
            scores.poll(Duration.ofMillis(200));
            letters.poll(Duration.ofMillis(50));
            caughtUp = scores.caughtUp() && letters.caughtUp();
        }
        if (!caughtUp && failure == null) {
            failure = "could not read neuron-scores and the dead letters to their end: " + scores.lastFailure() + " / "
                    + letters.lastFailure();
        }
        if (!produced.isDone()) {
            say("the producer has not finished");
        } else if (!produced.isCompletedExceptionally() && produced.join() != settings.neurons()) {
            failure = failure != null ? failure : "the producer emitted " + produced.join() + " neurons, not " + settings.neurons();
        }
        return failure;
    }

    private static String verdictLine(String failure, ScoreCensus.Tally tally, DeadLetterCensus.Verdict verdict, int expectedLetters) {
        List<String> wrong = new ArrayList<>();
        if (failure != null) {
            wrong.add(failure);
        }
        if (tally.lost() > 0) {
            wrong.add(tally.lost() + " neurons lost (no committed score)");
        }
        if (tally.duplicated() > 0) {
            wrong.add(tally.duplicated() + " neurons scored more than once");
        }
        if (tally.unexpected() > 0) {
            wrong.add(tally.unexpected() + " neurons scored that were not produced");
        }
        if (verdict.expected() != expectedLetters) {
            wrong.add("the poison was not all written: " + verdict.expected() + " of " + expectedLetters + " dead letters expected from it");
        }
        if (!verdict.holds()) {
            wrong.add(verdict.deadLetters() + " dead letters, expected exactly the " + verdict.expected() + " of the injected records ("
                    + verdict.matched() + " matched, " + verdict.missing() + " missing, " + verdict.unexpected() + " unexpected)");
        }
        return wrong.isEmpty() ? null : String.join("; ", wrong);
    }

    /** Produces the selected neurons' activations with the project's producer; returns how many it emitted. */
    private long produce(KafkaClients clients, Path modelDir, CheckpointName names, String selection) {
        try {
            say("producer: %s over %d windows of the default corpus, neurons %s", modelDir, settings.windows(), selection);
            CheckpointRunner runner = new CheckpointRunner(clients, CorpusSource.of(null), null, SamplingSettings.defaults(),
                    settings.windows(), 16, selection, null, true, ProgressReporter::logLines);
            var outcome = runner.run(new CheckpointRunner.Checkpoint(modelDir, null, names.model(), names.checkpoint(), null));
            long emitted = outcome.summary().neuronsEmitted();
            say("producer: %d neurons emitted", emitted);
            return emitted;
        } catch (Exception e) {
            throw new IllegalStateException(e.toString(), e);
        }
    }

    /** Carries out the schedule's faults in order, each once its share of neurons is scored. */
    private void chaos(ChaosCluster cluster, ChaosWorkers workers, KafkaClients clients, int neurons) {
        SplittableRandom random = new SplittableRandom(settings.seed());
        List<Integer> brokers = cluster.brokerIds();
        long lastEnd = 0;
        try {
            // Kills meet running processes only: the first waits for both to have joined.
            if (!workers.awaitProcessesReady(Duration.ofSeconds(120))) {
                say("a worker process was not ready within 120 s (see its log in %s)", settings.dir());
            }
            for (ChaosSchedule.Step step : ChaosSchedule.plan(settings.kills())) {
                int due = (int) Math.ceil(step.scoredShare() * neurons);
                while (scored.get() < due || System.nanoTime() - lastEnd < FAULT_GAP.toNanos()) {
                    if (tearingDown) {
                        return;
                    }
                    Thread.sleep(100);
                }
                if (tearingDown) {
                    return;
                }
                switch (step.fault()) {
                    case KILL_EXPLAINER, KILL_SIMULATOR -> {
                        ChaosWorkers.Stage stage = step.fault() == ChaosSchedule.Fault.KILL_EXPLAINER
                                ? ChaosWorkers.Stage.EXPLAINER : ChaosWorkers.Stage.SIMULATOR;
                        int at = scored.get();
                        long t = System.nanoTime();
                        long pid = workers.kill(stage, Duration.ofSeconds(90));
                        say("chaos: kill -9 the %s process (pid %d) at %d scored; started again, ready after %.1f s",
                                stage.name().toLowerCase(), pid, at, (System.nanoTime() - t) / 1e9);
                        kills.incrementAndGet();
                    }
                    case POISON -> {
                        poison.inject(clients, settings.poisonPerTopic(), settings.seed());
                        say("chaos: %d undecodable records written into each of %s", settings.poisonPerTopic(),
                                PoisonRecords.READERS.keySet());
                    }
                    case BROKER_RESTART -> {
                        int id = brokers.get(random.nextInt(brokers.size()));
                        cluster.stopBroker(id);
                        say("chaos: broker %d stopped at %d scored; down for %d s", id, scored.get(), settings.brokerDownS());
                        Thread.sleep(settings.brokerDownS() * 1000L);
                        cluster.startBroker(id, Duration.ofSeconds(120));
                        brokerRestarts.incrementAndGet();
                        say("chaos: broker %d started again and back in every ISR", id);
                    }
                    case REGISTRY_RESTART -> {
                        long t = System.nanoTime();
                        cluster.restartRegistry();
                        registryRestarts.incrementAndGet();
                        say("chaos: registry restarted at %d scored (down %.1f s)", scored.get(), (System.nanoTime() - t) / 1e9);
                    }
                    default -> throw new IllegalStateException(step.fault().toString());
                }
                lastEnd = System.nanoTime();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            throw new IllegalStateException(e.toString(), e);
        }
    }

    /** Runs a task on a daemon thread of its own, named for the logs. */
    private static Executor thread(String name) {
        return task -> {
            Thread t = new Thread(task, name);
            t.setDaemon(true);
            t.start();
        };
    }

    /** The first {@code count} neurons, layer by layer, as the producer's {@code --neurons} selection. */
    static String selection(int count, int perLayer) {
        List<String> parts = new ArrayList<>();
        for (int layer = 0, left = count; left > 0; layer++, left -= perLayer) {
            parts.add(layer + ":0-" + (Math.min(left, perLayer) - 1));
        }
        return String.join(",", parts);
    }

    /** The census names of the first {@code count} neurons, layer by layer. */
    static List<String> neurons(CheckpointName names, int count, int perLayer) {
        List<String> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(ScoreCensus.name(new NeuronKey(names.model(), names.checkpoint(), i / perLayer, i % perLayer)));
        }
        return out;
    }
}
