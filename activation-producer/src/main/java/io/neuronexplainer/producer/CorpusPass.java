package io.neuronexplainer.producer;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import io.neuronexplainer.producer.corpus.DocumentReader;
import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.producer.model.ActivationModel;
import io.neuronexplainer.producer.model.TextTokenizer;
import io.neuronexplainer.producer.sampling.LayerTopK;
import io.neuronexplainer.producer.sampling.SampleSeed;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.producer.sampling.SplitPlan;
import io.neuronexplainer.producer.sampling.TopWindow;
import io.neuronexplainer.producer.sampling.TopWindowTokens;
import io.neuronexplainer.producer.sampling.WindowReservoir;
import io.neuronexplainer.runtime.DaemonThreads;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronStats;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.FloatArrayView;
import io.neuronexplainer.schemas.SharedAvroArray;
import io.neuronexplainer.schemas.WindowKind;
import io.neuronexplainer.schemas.WindowMax;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.avro.generic.PrimitivesArrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass of a model over a corpus (plain Java, no Kafka): runs window batches through the
 * model, keeps every requested layer's per-neuron top-K windows and a shared random sample, then
 * builds one NeuronActivations record per neuron. Memory depends on the model, the layers and K,
 * never on the corpus. The random sample is seeded by the corpus fingerprint and the user's seed
 * ({@link SampleSeed}), so every checkpoint of a series gets the same sampled windows.
 *
 * <p>A pass can run over one shard of the corpus ({@link ShardRange}), hand snapshots of its
 * state to a callback as it goes, continue from a saved state ({@link #restore}), and emit from
 * the merged state of all shards ({@link #adopt}): the records are those of one whole pass.
 */
public final class CorpusPass {
    private static final Logger log = LoggerFactory.getLogger(CorpusPass.class);
    private final ActivationModel model;
    private final TextTokenizer tokenizer;
    private final int[] layers;
    private final SamplingSettings settings;
    private final long sampleSeed;
    private final int batchSize;
    /**
     * Token texts by id, filled as met (a map held boxed keys and hashed them: most of the emission's
     * time went to building windows). Grows past the first ids seen; ids are below the vocabulary.
     */
    // Read by the record builders; grown and written only under this pass's lock.
    private volatile String[] tokenTexts = new String[1024];
    private final ConcurrentHashMap<Long, WindowTokens> sharedTokens = new ConcurrentHashMap<>();
    /**
     * Each sampled window's maxima (layers x neurons), copied from the top-Ks' window maxima
     * ({@link LayerTopK#lastBatchMaxima}) when the window entered the sample, so the emission need
     * not run the model over it again; null when they would take more than
     * {@link #MAX_SAMPLE_MAXIMA_BYTES}.
     * Not part of the pass state: the windows a restored pass took before its snapshot, and other
     * shards' windows in a merged sample, are run again.
     */
    private Map<Long, float[]> sampleMaxima;
    /** The per-token values of the sample's first windows, kept likewise; null when too large. */
    private final SampleWindowValues sampleValues;
    /**
     * Records per building thread that may wait, built, for the emission's sink: together about one
     * emission transaction, so the builders keep working while the sink commits.
     */
    private static final int IN_FLIGHT = 128;
    /** Memory the sample's maxima may take during the pass (twice the sample, held between prunes). */
    private static final long MAX_SAMPLE_MAXIMA_BYTES = 64L << 20;
    /** Windows whose tokens an emission keeps built and encoded (~1 KB each). */
    private static final int MAX_SHARED_WINDOWS = 65_536;
    private static final org.apache.avro.Schema TOKEN_IDS_SCHEMA = ActivationWindow.getClassSchema().getField("token_ids").schema();
    // The pass's state: replaced wholesale by restore and adopt.
    private List<LayerTopK> tops = new ArrayList<>();
    private TopWindowTokens topTokens = new TopWindowTokens();
    private WindowReservoir reservoir;
    private ShardRange range;
    private long nextWindow;
    private long documents;
    private long windows;
    private long tokensSkipped;
    private double seconds;
    private PassResult result;

    /**
     * @param corpusFingerprint the corpus's content hash ({@link io.neuronexplainer.producer.corpus.CorpusFingerprint}):
     *                          with the settings' seed it seeds the random sample
     */
    public CorpusPass(ActivationModel model, TextTokenizer tokenizer, int[] layers, SamplingSettings settings,
                      String corpusFingerprint, int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("--batch must be positive, not " + batchSize);
        }
        if (settings.windowTokens() > model.contextLength()) {
            throw new IllegalArgumentException("windows of " + settings.windowTokens()
                    + " tokens exceed the model's context of " + model.contextLength());
        }
        if (layers.length == 0) {
            throw new IllegalArgumentException("no layers requested");
        }
        Set<Integer> distinct = new HashSet<>();
        for (int layer : layers) {
            if (layer < 0 || layer >= model.layers()) {
                throw new IllegalArgumentException("--layers " + layer + ": the model has " + model.layers()
                        + " layers (0-" + (model.layers() - 1) + ")");
            }
            if (!distinct.add(layer)) {
                throw new IllegalArgumentException("--layers lists layer " + layer + " twice");
            }
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.layers = layers.clone();
        this.settings = settings;
        this.sampleSeed = SampleSeed.of(corpusFingerprint, settings.seed());
        this.batchSize = batchSize;
        for (int ignored : layers) {
            tops.add(new LayerTopK(model.neuronsPerLayer(), settings.topK(), settings.windowTokens()));
        }
        this.reservoir = new WindowReservoir(settings.reservoirSize(), sampleSeed);
        this.sampleMaxima = 2L * settings.reservoirSize() * layers.length * model.neuronsPerLayer() * Float.BYTES
                <= MAX_SAMPLE_MAXIMA_BYTES ? new HashMap<>() : null;
        this.sampleValues = SampleWindowValues.forPass(settings.scoringSampleSize(), layers.length, settings.windowTokens(),
                model.neuronsPerLayer());
    }

    /**
     * Reads the whole corpus (or the cutter's window budget). {@code onStarted} runs once the
     * first batch shows the corpus has windows; an empty corpus is an error before it runs, so
     * nothing is announced for a run that cannot happen.
     */
    public PassResult run(WindowCutter cutter, String corpusName, Runnable onStarted, PassProgress progress)
            throws IOException {
        return run(cutter, range == null ? ShardRange.all() : range, corpusName, onStarted, progress,
                PassSnapshots.NONE, null);
    }

    /**
     * A cutter for this pass's part of the corpus: from {@code range}'s first window, or from
     * the next window of a {@link #restore restored} state, to the range's end. The last shard
     * reads to the corpus's end when no window budget is set ({@code maxWindows} 0 or less), so
     * its counts of documents and skipped tokens include the corpus's tail, as one pass's do.
     */
    public WindowCutter cutter(DocumentReader documents, ShardRange range, long maxWindows) {
        checkRange(range);
        long from = this.range != null ? nextWindow : range.from();
        long to = range.last() && maxWindows <= 0 ? Long.MAX_VALUE : range.to();
        return new WindowCutter(documents, tokenizer, settings.windowTokens(), from, to);
    }

    /**
     * Runs over {@code range} (or the rest of it, after {@link #restore}), reading windows from
     * {@code cutter} (see {@link #cutter}), and every {@code every} (null: never) hands
     * {@code snapshots} a copy of the state taken between two batches; when the range is done,
     * the finished state too. The copy is plain array copies on this thread (its pause is
     * logged); writing it is the callback's business, off this thread ({@link SnapshotWriter}).
     * An empty corpus (nothing in the first shard's range) is an error before {@code onStarted}.
     * A pass restored from a finished state returns its result at once, reading nothing.
     */
    public PassResult run(WindowCutter cutter, ShardRange range, String corpusName, Runnable onStarted,
                          PassProgress progress, PassSnapshots snapshots, Duration every) throws IOException {
        checkRange(range);
        if (result != null) {
            // Restored from a finished shard's state (its process died before the merge): nothing to read.
            log.info("{} was already done: nothing to run", this.range);
            return result;
        }
        if (this.range == null) {
            this.range = range;
            this.nextWindow = range.from();
        }
        if (cutter.fromWindow() != nextWindow) {
            throw new IllegalArgumentException("the cutter starts at window " + cutter.fromWindow()
                    + " but the pass continues at window " + nextWindow + " (use CorpusPass.cutter)");
        }
        List<CorpusWindow> batch = cutter.nextBatch(batchSize);
        if (batch.isEmpty() && windows == 0 && range.from() == 0 && range.to() > 0) {
            throw new IllegalArgumentException("corpus " + corpusName + ": empty, no window of "
                    + settings.windowTokens() + " tokens (" + cutter.documentsRead()
                    + " documents read, none that long)");
        }
        onStarted.run();
        progress.started();
        long startNanos = System.nanoTime();
        long lastSnapshot = startNanos;
        long everyNanos = every == null ? Long.MAX_VALUE : every.toNanos();
        long baseDocuments = documents;
        long baseWindows = windows;
        long baseSkipped = tokensSkipped;
        double baseSeconds = seconds;
        int tokens = settings.windowTokens();
        int neurons = model.neuronsPerLayer();
        float[][] activations = new float[layers.length][];
        // Where this run's time goes, for its log line: the rest is reading, tokenising and sampling.
        long forwardNanos = 0;
        long topKNanos = 0;
        while (!batch.isEmpty()) {
            if (batch.get(0).index() != nextWindow) {
                throw new IllegalStateException("window " + batch.get(0).index() + " read where window " + nextWindow
                        + " was due");
            }
            int[][] ids = new int[batch.size()][];
            for (int w = 0; w < ids.length; w++) {
                ids[w] = batch.get(w).ids();
            }
            long forwardStart = System.nanoTime();
            activations = model.mlpActivations(ids, layers, activations);
            long topKStart = System.nanoTime();
            for (int l = 0; l < layers.length; l++) {
                if (activations[l].length != ids.length * tokens * neurons) {
                    throw new IllegalStateException("model returned " + activations[l].length
                            + " activations for layer " + layers[l] + ", expected " + ids.length * tokens * neurons);
                }
            }
            LayerTopK.offerAll(tops, activations, ids.length, batch.get(0).index());
            forwardNanos += topKStart - forwardStart;
            topKNanos += System.nanoTime() - topKStart;
            for (int w = 0; w < batch.size(); w++) {
                if (reservoir.offer(batch.get(w))) {
                    if (sampleMaxima != null) {
                        sampleMaxima.put(batch.get(w).index(), RandomWindowMaxima.windowMaxima(tops, w));
                        if (sampleMaxima.size() > 2 * reservoir.capacity()) {
                            sampleMaxima.keySet().retainAll(new HashSet<>(sampleWindowIndexes()));
                        }
                    }
                    if (sampleValues != null) {
                        sampleValues.offered(reservoir, batch.get(w), activations, w);
                    }
                }
                topTokens.add(batch.get(w));
            }
            topTokens.pruneIfLarge(tops);
            progress.batch(topKStart - forwardStart, System.nanoTime() - topKStart);
            nextWindow = cutter.nextWindow();
            documents = baseDocuments + cutter.documentsRead();
            windows = baseWindows + cutter.windowsCut();
            tokensSkipped = baseSkipped + cutter.tokensSkipped();
            long now = System.nanoTime();
            seconds = baseSeconds + (now - startNanos) / 1e9;
            progress.update(windows, windows * tokens, fraction(cutter));
            // After a short batch the cutter has read to the end (tail counts included): the
            // finished state follows at once, and a snapshot here would count the tail twice on resume.
            if (now - lastSnapshot >= everyNanos && batch.size() == batchSize) {
                snapshot(snapshots, false);
                lastSnapshot = System.nanoTime();
            }
            batch = cutter.nextBatch(batchSize);
        }
        // The cutter reads the corpus's tail (documents without a window) when asked for the next batch.
        documents = baseDocuments + cutter.documentsRead();
        tokensSkipped = baseSkipped + cutter.tokensSkipped();
        seconds = baseSeconds + (System.nanoTime() - startNanos) / 1e9;
        progress.finish();
        topTokens.prune(tops);
        result = new PassResult(documents, windows, windows * tokens, tokensSkipped, seconds);
        double here = (System.nanoTime() - startNanos) / 1e9;
        log.info("pass done: {} windows of {} in {} s (here: forward {} s, top-K {} s, reading, tokenising and sampling {} s); "
                        + "{} top windows' tokens kept; peak resident so far {} MiB", windows, range, String.format("%.1f", seconds),
                String.format("%.1f", forwardNanos / 1e9), String.format("%.1f", topKNanos / 1e9),
                String.format("%.1f", here - (forwardNanos + topKNanos) / 1e9), topTokens.size(), PeakMemory.kib() / 1024);
        if (snapshots != PassSnapshots.NONE) {
            snapshot(snapshots, true);
        }
        return result;
    }

    private double fraction(WindowCutter cutter) {
        if (range.open() || range.windows() == 0) {
            return cutter.fractionDone();
        }
        return Math.min(1.0, (double) (nextWindow - range.from()) / range.windows());
    }

    private void snapshot(PassSnapshots snapshots, boolean done) {
        long start = System.nanoTime();
        PassState copy = copyState(done);
        long pauseMicros = (System.nanoTime() - start) / 1000;
        log.info("snapshot of {} at window {}: state copied in {} ms", range, nextWindow,
                String.format("%.1f", pauseMicros / 1000.0));
        snapshots.save(copy);
    }

    private PassState copyState(boolean done) {
        // Pruning first keeps the copy (and the file) to the windows some neuron keeps.
        topTokens.prune(tops);
        List<LayerTopK> copies = new ArrayList<>(tops.size());
        for (LayerTopK top : tops) {
            copies.add(top.copy());
        }
        return new PassState(settings, batchSize, layers, model.neuronsPerLayer(), range, nextWindow, done, copies,
                reservoir.copy(), topTokens.copy(), documents, windows, tokensSkipped, seconds);
    }

    /**
     * A copy of the pass's state: after {@link #run}, the finished shard (to save or merge);
     * before, the restored or empty state.
     */
    public PassState state() {
        if (range == null) {
            throw new IllegalStateException("no state before run or restore");
        }
        return copyState(result != null);
    }

    /**
     * Continues from {@code state} (a snapshot, usually of a killed process): the next
     * {@link #run} starts at its next window. The pass takes the state's tables over (no copy):
     * do not use {@code state} afterwards. A state of another pass shape is refused; a finished
     * one leaves nothing to run.
     */
    public void restore(PassState state) {
        if (range != null) {
            throw new IllegalStateException("restore into a pass that has already run or restored");
        }
        checkCompatible(state);
        take(state);
        if (state.done()) {
            result = state.result();
        }
        log.info("restored {} at window {} ({} windows done)", range, nextWindow, windows);
    }

    /**
     * Takes a merged state of all the run's shards ({@link PassState#merge}) to {@link #emit}
     * from; as for {@link #restore}, the state is taken over, not copied.
     */
    public void adopt(PassState merged) {
        checkCompatible(merged);
        if (!merged.done() || merged.range().shards() != 1) {
            throw new IllegalArgumentException("adopt needs the merged state of a whole run, not " + merged.range()
                    + (merged.done() ? "" : " (unfinished)"));
        }
        take(merged);
        result = merged.result();
    }

    private void take(PassState state) {
        tops = new ArrayList<>(state.tops());
        reservoir = state.reservoir();
        topTokens = state.tokens();
        range = state.range();
        nextWindow = state.nextWindow();
        documents = state.documents();
        windows = state.windows();
        tokensSkipped = state.tokensSkipped();
        seconds = state.seconds();
    }

    private void checkCompatible(PassState state) {
        if (!settings.equals(state.settings()) || batchSize != state.batchSize()
                || !Arrays.equals(layers, state.layers()) || model.neuronsPerLayer() != state.neuronsPerLayer()) {
            throw new IllegalArgumentException("pass state of another pass: " + state.describe() + "; this pass: layers "
                    + Arrays.toString(layers) + " x " + model.neuronsPerLayer() + " neurons, batch " + batchSize + ", "
                    + settings);
        }
        if (state.reservoir().seed() != sampleSeed) {
            throw new IllegalArgumentException("pass state of another corpus or seed: its random sample is seeded "
                    + state.reservoir().seed() + ", this pass's " + sampleSeed);
        }
    }

    private void checkRange(ShardRange range) {
        if (this.range != null && !this.range.equals(range)) {
            throw new IllegalArgumentException("this pass is of " + this.range + ", not " + range);
        }
    }

    /**
     * Builds each neuron's record, layer by layer, and hands it to {@code sink}. The random
     * windows scoring may use (the sample's first {@link SamplingSettings#scoringSampleSize}) and
     * the whole sample's per-neuron maxima come from the pass or, for windows it kept none of (a
     * restored or merged state's), from one batched run of the model over them ({@link RandomWindowMaxima}).
     */
    public long emit(RunIdentity run, Instant producedAt, Consumer<NeuronActivations> sink) {
        return emit(run, producedAt, 1, (layer, neuron) -> true, record -> record, sink);
    }

    /** Which neurons an emission writes; asked in emission order, on the emitting thread. */
    @FunctionalInterface
    public interface NeuronFilter {
        boolean wants(int layer, int neuron);
    }

    /**
     * As {@link #emit(RunIdentity, Instant, Consumer)} for the neurons {@code wanted} accepts, each
     * record built and passed through {@code prepare} (e.g. serialised) on one of {@code threads}
     * threads, and the results handed to {@code sink} in emission order on the calling thread:
     * building and encoding 36,864 records took a single thread 20+ s. At most {@link #IN_FLIGHT}
     * records per thread wait for the sink, so memory stays small.
     *
     * @return the records handed to {@code sink}
     */
    public <T> long emit(RunIdentity run, Instant producedAt, int threads, NeuronFilter wanted,
                         Function<NeuronActivations, T> prepare, Consumer<T> sink) {
        if (result == null) {
            throw new IllegalStateException("emit before run");
        }
        ProducerRun runInfo = new ProducerRun(run.runId(), run.corpus(), settings.windowTokens(), settings.topK(),
                settings.random(), settings.seed(), producedAt, run.seriesId(), run.step());
        List<CorpusWindow> sample = reservoir.sample();
        List<CorpusWindow> scoringSample = sample.subList(0, Math.min(sample.size(), settings.scoringSampleSize()));
        long sampleStart = System.nanoTime();
        cacheTokenTexts(sample);
        RandomWindowMaxima maxima = RandomWindowMaxima.compute(model, layers, sample, batchSize, scoringSample.size(),
                settings.windowTokens(), sampleMaxima == null ? Map.of() : sampleMaxima, sampleValues);
        log.info("random sample of {} windows: {} run through {} layers of the model again, token texts decoded, in {} s",
                sample.size(), maxima.windowsRun(), layers.length, String.format("%.1f", (System.nanoTime() - sampleStart) / 1e9));
        ExecutorService pool = threads > 1 ? Executors.newFixedThreadPool(threads, DaemonThreads.named("emit-records")) : null;
        ArrayDeque<Future<T>> inFlight = new ArrayDeque<>();
        long emitted = 0;
        try {
            for (int l = 0; l < layers.length; l++) {
                int position = l;
                LayerTopK top = tops.get(l);
                for (int n = 0; n < top.neurons(); n++) {
                    if (!wanted.wants(layers[l], n)) {
                        continue;
                    }
                    int neuron = n;
                    Supplier<T> build = () -> prepare.apply(record(run, runInfo, layers[position], neuron, top,
                            scoringSample, maxima.firstWindows(position), maxima.of(position, neuron)));
                    if (pool == null) {
                        sink.accept(build.get());
                    } else {
                        inFlight.add(pool.submit(build::get));
                        if (inFlight.size() >= IN_FLIGHT * threads) {
                            sink.accept(result(inFlight.poll()));
                        }
                    }
                    emitted++;
                }
            }
            while (!inFlight.isEmpty()) {
                sink.accept(result(inFlight.poll()));
            }
        } finally {
            if (pool != null) {
                // After a failure, builders still running must stop before the shared tokens are dropped.
                pool.shutdownNow();
                // Awaited even when this thread was interrupted (the flag is set again after).
                boolean interrupted = Thread.interrupted();
                try {
                    if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
                        log.warn("record builders still running 30 s after the emission ended");
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                } finally {
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
            sharedTokens.clear();
        }
        return emitted;
    }

    private static <T> T result(Future<T> built) {
        try {
            return built.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while emitting records", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        }
    }

    private NeuronActivations record(RunIdentity run, ProducerRun runInfo, int layer, int neuron, LayerTopK top,
                                     List<CorpusWindow> scoringSample, float[][] randomActivations,
                                     List<WindowMax> randomMaxima) {
        List<TopWindow> best = top.top(neuron);
        SplitPlan plan = SplitPlan.of(best.size(), settings.explainTop(), settings.scoreTop());
        Set<Long> used = new HashSet<>();
        List<ActivationWindow> explanation = new ArrayList<>();
        for (int rank : plan.explanationRanks()) {
            explanation.add(topWindow(best.get(rank)));
            used.add(best.get(rank).windowIndex());
        }
        List<ActivationWindow> scoring = new ArrayList<>();
        for (int rank : plan.scoringRanks()) {
            scoring.add(topWindow(best.get(rank)));
            used.add(best.get(rank).windowIndex());
        }
        // Slots in order: any prefix of the reservoir is a uniform sample, so skipping a window
        // this neuron already uses and taking the next slot keeps the sample uniform. At most
        // explain + score windows are skipped, so the scoring sample always has R left.
        List<ActivationWindow> random = new ArrayList<>();
        int tokens = settings.windowTokens();
        int neurons = top.neurons();
        for (int slot = 0; slot < scoringSample.size() && random.size() < settings.random(); slot++) {
            CorpusWindow w = scoringSample.get(slot);
            if (used.contains(w.index())) {
                continue;
            }
            float[] values = new float[tokens];
            for (int t = 0; t < tokens; t++) {
                values[t] = randomActivations[slot][t * neurons + neuron];
            }
            random.add(window(w.index(), WindowKind.RANDOM, w.ids(), values));
        }
        float max = best.isEmpty() ? Float.NaN : best.get(0).maxActivation();
        NeuronStats stats = new NeuronStats(max, top.mean(neuron), top.windowsSeen(), top.windowsSeen() * tokens);
        return new NeuronActivations(new NeuronKey(run.model(), run.checkpoint(), layer, neuron),
                explanation, scoring, random, stats, runInfo, randomMaxima);
    }

    private ActivationWindow topWindow(TopWindow top) {
        int[] ids = topTokens.get(top.windowIndex());
        if (ids == null) {
            throw new IllegalStateException("token ids of kept window " + top.windowIndex() + " were pruned");
        }
        return window(top.windowIndex(), WindowKind.TOP, ids, top.activations());
    }

    /** @param activations this window's own copy: the record reads it, unboxed, until written */
    private ActivationWindow window(long index, WindowKind kind, int[] ids, float[] activations) {
        float max = Float.NEGATIVE_INFINITY;
        for (float a : activations) {
            max = Math.max(max, a);
        }
        WindowTokens tokens = windowTokens(index, ids);
        return new ActivationWindow(index, kind, tokens.texts(), tokens.ids(), new FloatArrayView(activations), max);
    }

    /** A window's token texts and ids, built and Avro-encoded once for all the records that show it. */
    private record WindowTokens(SharedAvroArray<String> texts, SharedAvroArray<Integer> ids) {}

    private WindowTokens windowTokens(long index, int[] ids) {
        WindowTokens shared = sharedTokens.get(index);
        if (shared != null) {
            return shared;
        }
        if (sharedTokens.size() >= MAX_SHARED_WINDOWS) {
            sharedTokens.clear(); // a huge run: memory stays bounded, records built later encode again
        }
        String[] texts = new String[ids.length];
        PrimitivesArrays.IntArray idList = new PrimitivesArrays.IntArray(ids.length, TOKEN_IDS_SCHEMA);
        for (int t = 0; t < ids.length; t++) {
            texts[t] = tokenText(ids[t]);
            idList.add(t, ids[t]);
        }
        shared = new WindowTokens(new SharedAvroArray<>(Arrays.asList(texts)), new SharedAvroArray<>(idList));
        WindowTokens raced = sharedTokens.putIfAbsent(index, shared);
        return raced != null ? raced : shared;
    }

    /**
     * Decodes every token the records can show (the kept top windows' and the sample's) in one call
     * to the tokenizer: one call per token was a tenth of the emission. Afterwards the records only
     * read the cache, so they can be built on several threads.
     */
    private synchronized void cacheTokenTexts(List<CorpusWindow> sample) {
        BitSet needed = new BitSet();
        for (int[] ids : topTokens.windows()) {
            for (int id : ids) {
                needed.set(id);
            }
        }
        for (CorpusWindow w : sample) {
            for (int id : w.ids()) {
                needed.set(id);
            }
        }
        if (needed.length() > tokenTexts.length) {
            tokenTexts = Arrays.copyOf(tokenTexts, needed.length());
        }
        int[] missing = needed.stream().filter(id -> tokenTexts[id] == null).toArray();
        String[] texts = tokenizer.tokenTexts(missing);
        for (int i = 0; i < missing.length; i++) {
            tokenTexts[missing[i]] = texts[i];
        }
    }

    private String tokenText(int id) {
        String[] texts = tokenTexts;
        String text = id < texts.length ? texts[id] : null;
        return text != null ? text : decodeTokenText(id);
    }

    /** A token not decoded beforehand (the emission decodes all of its tokens first): one at a time. */
    private synchronized String decodeTokenText(int id) {
        if (id >= tokenTexts.length) {
            tokenTexts = Arrays.copyOf(tokenTexts, Math.max(id + 1, tokenTexts.length * 2));
        }
        String text = tokenTexts[id];
        if (text == null) {
            text = tokenizer.tokenText(id);
            tokenTexts[id] = text;
        }
        return text;
    }

    /** Layers this pass reads, in request order. */
    public int[] layers() {
        return layers.clone();
    }

    public int neuronsPerLayer() {
        return model.neuronsPerLayer();
    }

    public SamplingSettings settings() {
        return settings;
    }

    /** The seed of the shared random sample: the corpus fingerprint's and the settings' ({@link SampleSeed}). */
    public long sampleSeed() {
        return sampleSeed;
    }

    /** The shared random sample's windows, in sample order: every record's {@code random_window_maxima} follows it. */
    public List<Long> sampleWindowIndexes() {
        return reservoir.sample().stream().map(CorpusWindow::index).toList();
    }
}
