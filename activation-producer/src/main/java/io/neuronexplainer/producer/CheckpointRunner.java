package io.neuronexplainer.producer;

import io.neuronexplainer.producer.ActivationProducer.RunDetails;
import io.neuronexplainer.producer.corpus.CorpusFingerprint;
import io.neuronexplainer.producer.corpus.CorpusSource;
import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.producer.model.Gpt2Checkpoint;
import io.neuronexplainer.producer.model.Gpt2Model;
import io.neuronexplainer.producer.model.Gpt2Tokenizer;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.PassShard;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs checkpoints through the producer with one corpus and one set of sampling settings (a
 * series): computes each run's identity, skips a run already COMPLETED with that identity unless
 * forced, and otherwise runs the pass, snapshotting its state to a {@link PassSnapshotStore} so a
 * pass cut short (kill -9, a lost machine) is continued, by this process or another, from its last
 * snapshot; then writes the records. A pass split into shards ({@link #plan}, {@link #runShard}) is
 * merged and emitted by the process that finishes its last shard.
 */
public final class CheckpointRunner {
    private static final Logger log = LoggerFactory.getLogger(CheckpointRunner.class);

    /** A checkpoint to run: its folder, tokenizer (null = found beside it), names and training step (null if unknown). */
    public record Checkpoint(Path folder, Path tokenizer, String model, String checkpoint, Long step) {}

    /** A run done ({@code summary}), or skipped because {@code completedBefore} already did it. */
    public record Outcome(RunIdentity run, ProduceSummary summary, CheckpointRun completedBefore) {
        public boolean skipped() {
            return summary == null;
        }
    }

    /** Where snapshots go, how often, how many shards a followed checkpoint's pass is split into, and whether files are kept. */
    public record Resilience(PassSnapshotStore snapshots, Duration snapshotEvery, int shards, boolean keepFiles) {
        public static final Resilience NONE = new Resilience(null, Duration.ZERO, 1, false);

        public Resilience {
            if (shards < 1) {
                throw new IllegalArgumentException("--shards must be >= 1, not " + shards);
            }
        }
    }

    private final KafkaClients clients;
    private final CorpusSource corpus;
    private final String corpusName;
    private final SamplingSettings settings;
    private final long windows;
    private final int batch;
    private final NeuronSelection selection;
    private final String neurons;
    private final int[] layers;
    private final boolean force;
    private final Supplier<PassProgress> progress;
    private volatile ProducerMeters meters;
    private final Resilience resilience;
    private String fingerprint;

    /**
     * @param windows   window budget, 0 = the whole corpus
     * @param neurons   neurons to emit ({@link NeuronSelection#parse}), or null for all
     * @param layers    layers to run when no selection is given, or null for all
     * @param force     run again even when the same run already COMPLETED
     */
    public CheckpointRunner(KafkaClients clients, CorpusSource corpus, String corpusName, SamplingSettings settings,
                            long windows, int batch, String neurons, int[] layers, boolean force,
                            Supplier<PassProgress> progress) {
        this(clients, corpus, corpusName, settings, windows, batch, neurons, layers, force, progress, Resilience.NONE);
    }

    public CheckpointRunner(KafkaClients clients, CorpusSource corpus, String corpusName, SamplingSettings settings,
                            long windows, int batch, String neurons, int[] layers, boolean force,
                            Supplier<PassProgress> progress, Resilience resilience) {
        if (windows < 0) {
            throw new IllegalArgumentException("--windows must be >= 0 (0 = the whole corpus), not " + windows);
        }
        if (neurons != null && layers != null) {
            throw new IllegalArgumentException("give --neurons or --layers, not both");
        }
        this.clients = clients;
        this.corpus = corpus;
        this.corpusName = corpusName != null ? corpusName : corpus.name();
        this.settings = settings;
        this.windows = windows;
        this.batch = batch;
        this.selection = neurons == null ? null : NeuronSelection.parse(neurons);
        this.neurons = neurons != null ? neurons
                : layers == null ? "" : Arrays.stream(layers).mapToObj(Integer::toString).collect(Collectors.joining(","));
        this.layers = layers;
        this.force = force;
        this.progress = progress;
        this.resilience = resilience;
    }

    /** The corpus's fingerprint, read once: every checkpoint of the series shares it. */
    public synchronized String corpusFingerprint() throws IOException {
        if (fingerprint == null) {
            long start = System.nanoTime();
            fingerprint = CorpusFingerprint.of(corpus);
            log.info("corpus {} fingerprint {} ({} ms)", corpusName, fingerprint, (System.nanoTime() - start) / 1_000_000);
        }
        return fingerprint;
    }

    public RunIdentity identity(Checkpoint c) throws IOException {
        return RunIdentity.of(c.model(), c.checkpoint(), corpusName, corpusFingerprint(), settings, windows, c.step());
    }

    private Optional<CheckpointRun> completedBefore(RunIdentity run) {
        if (force) {
            return Optional.empty();
        }
        Optional<CheckpointRun> done = CheckpointRuns.read(clients).completed(run.runId(), neurons);
        done.ifPresent(d -> log.info("run {} ({} / {} over {}) already COMPLETED at {}: skipped (--force runs it again)",
                run.runId(), run.model(), run.checkpoint(), run.corpus(), d.getUpdatedAt()));
        return done;
    }

    /**
     * Runs {@code c} in this process unless the same run already completed (and not forced):
     * continues from its snapshot if an earlier attempt left one, and emits only the neuron records
     * an earlier attempt did not commit.
     */
    public Outcome run(Checkpoint c) throws IOException {
        RunIdentity run = identity(c);
        Optional<CheckpointRun> done = completedBefore(run);
        if (done.isPresent()) {
            return new Outcome(run, null, done.get());
        }
        long start = System.nanoTime(); // the summary's whole run counts loading too
        try (Gpt2Tokenizer tok = Gpt2Tokenizer.forModel(c.folder(), c.tokenizer());
             Gpt2Model gpt2 = Gpt2Model.load(c.folder())) {
            return new Outcome(run, runLoaded(run, c, gpt2, tok, start), null);
        }
    }

    /**
     * Runs {@code c} with a model and tokenizer already open (whether or not the same run completed
     * before): the pass, then the emission. For {@code bench producer}'s end-to-end mode, which
     * times it beside the bare forward pass on the same model.
     */
    public ProduceSummary runLoaded(Checkpoint c, Gpt2Model gpt2, Gpt2Tokenizer tok) throws IOException {
        return runLoaded(identity(c), c, gpt2, tok, System.nanoTime());
    }

    private ProduceSummary runLoaded(RunIdentity run, Checkpoint c, Gpt2Model gpt2, Gpt2Tokenizer tok, long start)
            throws IOException {
        RunDetails details = new RunDetails(c.step(), neurons, windows);
        CorpusPass pass = newPass(gpt2, tok);
        PassResult result = runRange(run, details, pass, whole());
        ProduceSummary summary = new ActivationProducer(clients).emit(run, details, pass, selection, result, start);
        emitted(summary);
        cleanUp(run);
        return summary;
    }

    /**
     * The shards of {@code c}'s pass for the producer group to share, or none when the run is
     * already COMPLETED (then {@code skipped} names it). Without a window budget the corpus's
     * windows are counted first (tokenizing only), so the shards' boundaries are known.
     */
    public List<PassShard> plan(Checkpoint c, boolean downloaded) throws IOException {
        RunIdentity run = identity(c);
        if (completedBefore(run).isPresent()) {
            return List.of();
        }
        // An unrunnable checkpoint (no weights, a corrupt header, shapes unlike its config) fails here, before
        // any shard is handed out: reading the header costs nothing beside a pass.
        try (Gpt2Checkpoint ignored = Gpt2Checkpoint.open(c.folder())) {
            // opening checks names and shapes
        }
        long total = windows;
        if (total == 0 && resilience.shards() > 1) {
            try (Gpt2Tokenizer tok = Gpt2Tokenizer.forModel(c.folder(), c.tokenizer())) {
                total = WindowCutter.countWindows(corpus.open(), tok, settings.windowTokens());
            }
        }
        List<ShardRange> ranges = resilience.shards() == 1 ? List.of(whole())
                : ShardRange.split(total, resilience.shards(), batch);
        List<PassShard> shards = new ArrayList<>();
        for (ShardRange r : ranges) {
            shards.add(PassShard.newBuilder().setModel(c.model()).setCheckpoint(c.checkpoint()).setStep(c.step())
                    .setFolder(c.folder().toString()).setTokenizer(c.tokenizer() == null ? "" : c.tokenizer().toString())
                    .setDownloaded(downloaded).setCorpus(run.corpus()).setRunId(run.runId()).setShard(r.shard())
                    .setShards(r.shards()).setFromWindow(r.from()).setToWindow(r.to()).setWindowsTotal(total).build());
        }
        return shards;
    }

    /** What running one shard came to: the run's summary when this process merged and emitted it, else null. */
    public record ShardOutcome(RunIdentity run, ProduceSummary summary, boolean skipped) {}

    /**
     * Runs one shard of a planned pass (continuing from its snapshot), then, if every shard is done
     * and this process holds the merge claim, merges the shards' states and emits the run.
     */
    public ShardOutcome runShard(PassShard task) throws IOException {
        Checkpoint c = new Checkpoint(Path.of(task.getFolder()), task.getTokenizer().isEmpty() ? null : Path.of(task.getTokenizer()),
                task.getModel(), task.getCheckpoint(), task.getStep());
        RunIdentity run = identity(c);
        if (!run.runId().equals(task.getRunId())) {
            throw new IllegalArgumentException("pass shard of run " + task.getRunId() + " was planned with other corpus or "
                    + "sampling settings than this producer's (run " + run.runId() + "): give every producer of the group the same");
        }
        if (completedBefore(run).isPresent()) {
            return new ShardOutcome(run, null, true);
        }
        long start = System.nanoTime();
        ShardRange range = new ShardRange(task.getShard(), task.getShards(), task.getFromWindow(), task.getToWindow());
        // One shard is the whole run: its records are the run's (shard -1).
        RunDetails details = task.getShards() == 1 ? new RunDetails(c.step(), neurons, windows)
                : new RunDetails(c.step(), neurons, windows, task.getShard(), task.getShards(), task.getWindowsTotal());
        try (Gpt2Tokenizer tok = Gpt2Tokenizer.forModel(c.folder(), c.tokenizer());
             Gpt2Model gpt2 = Gpt2Model.load(c.folder())) {
            CorpusPass pass = newPass(gpt2, tok);
            runRange(run, details, pass, range);
            log.info("run {}: shard {} of {} done", run.runId(), range.shard() + 1, range.shards());
            if (range.shards() == 1) {
                ProduceSummary summary = new ActivationProducer(clients).emit(run, details, pass, selection,
                        pass.state().result(), start);
                emitted(summary);
                cleanUp(run);
                return new ShardOutcome(run, summary, false);
            }
            PassSnapshotStore store = resilience.snapshots();
            if (store == null) {
                throw new IllegalStateException("a pass in shards needs a snapshot folder the producers share");
            }
            if (!store.allDone(run.runId(), range.shards())) {
                return new ShardOutcome(run, null, false);
            }
            if (!store.tryClaimMerge(run.runId(), range.shard(), range.shards())) {
                log.info("run {}: another producer merges the shards", run.runId());
                return new ShardOutcome(run, null, false);
            }
            PassState merged = store.merged(run.runId(), range.shards()).orElseThrow();
            pass.adopt(merged);
            PassResult result = merged.result();
            log.info("run {}: {} shards merged ({} windows); emitting", run.runId(), range.shards(), result.windows());
            ProduceSummary summary = new ActivationProducer(clients).emit(run, details, pass, selection, result, start);
            emitted(summary);
            cleanUp(run);
            return new ShardOutcome(run, summary, false);
        }
    }

    /** Continues (or starts) the pass over {@code range} from the store's latest snapshot of that shard. */
    private PassResult runRange(RunIdentity run, RunDetails details, CorpusPass pass, ShardRange range)
            throws IOException {
        PassSnapshotStore store = resilience.snapshots();
        Optional<PassState> saved = store == null ? Optional.empty() : store.latest(run.runId(), range.shard(), range.shards());
        if (saved.isPresent()) {
            pass.restore(saved.get());
            log.info("run {}: shard {} of {} resumed from window {} (its last snapshot; windows {} to {})", run.runId(),
                    range.shard() + 1, range.shards(), saved.get().nextWindow(), range.from(),
                    range.to() == Long.MAX_VALUE ? "the end" : range.to());
        }
        Duration every = resilience.snapshotEvery().isZero() ? null : resilience.snapshotEvery();
        ActivationProducer producer = new ActivationProducer(clients);
        try (WindowCutter cutter = pass.cutter(corpus.open(), range, windows)) {
            if (store == null) {
                return producer.pass(run, details, pass, cutter, progress(run), range, PassSnapshots.NONE, null);
            }
            // Closing the writer waits for the last write: the finished shard, for the merge and a resumed emission.
            try (SnapshotWriter writer = store.writer(run.runId())) {
                return producer.pass(run, details, pass, cutter, progress(run), range, writer, every);
            }
        }
    }

    /** Passes from now on are followed by {@code meters} too (the producer service's /metrics). */
    public void meters(ProducerMeters meters) {
        this.meters = meters;
    }

    private void emitted(ProduceSummary summary) {
        if (meters != null) {
            meters.emitted(summary.run(), summary.neuronsEmitted());
        }
    }

    private PassProgress progress(RunIdentity run) {
        PassProgress shown = progress.get();
        return meters == null ? shown : meters.tracking(run, shown);
    }

    /** The one range of an unsplit pass: the window budget, or the whole corpus. */
    private ShardRange whole() {
        return windows > 0 ? new ShardRange(0, 1, 0, windows) : ShardRange.all();
    }

    private CorpusPass newPass(Gpt2Model gpt2, Gpt2Tokenizer tok) throws IOException {
        int[] chosen = layers != null ? layers : NeuronSelection.layersToRun(selection, gpt2.layers());
        return new CorpusPass(gpt2, tok, chosen, settings, corpusFingerprint(), batch);
    }

    private void cleanUp(RunIdentity run) throws IOException {
        PassSnapshotStore store = resilience.snapshots();
        if (store == null) {
            return;
        }
        if (resilience.keepFiles()) {
            store.releaseMerge(run.runId()); // kept snapshots, but no claim left to block a forced re-run's merge
        } else {
            store.delete(run.runId());
        }
    }
}
