package io.neuronexplainer.producer;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.producer.model.ActivationModel;
import io.neuronexplainer.producer.model.TextTokenizer;
import io.neuronexplainer.producer.sampling.LayerTopK;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.producer.sampling.SplitPlan;
import io.neuronexplainer.producer.sampling.TopWindow;
import io.neuronexplainer.producer.sampling.TopWindowTokens;
import io.neuronexplainer.producer.sampling.WindowReservoir;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronStats;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.WindowKind;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass of a model over a corpus (plain Java, no Kafka): runs window batches through the
 * model, keeps every requested layer's per-neuron top-K windows and a shared random sample, then
 * builds one NeuronActivations record per neuron. Memory depends on the model, the layers and K,
 * never on the corpus.
 */
public final class CorpusPass {
    private static final Logger log = LoggerFactory.getLogger(CorpusPass.class);
    private final ActivationModel model;
    private final TextTokenizer tokenizer;
    private final int[] layers;
    private final SamplingSettings settings;
    private final int batchSize;
    private final List<LayerTopK> tops = new ArrayList<>();
    private final TopWindowTokens topTokens = new TopWindowTokens();
    private final WindowReservoir reservoir;
    private final Map<Integer, String> tokenTexts = new HashMap<>();
    private PassResult result;

    public CorpusPass(ActivationModel model, TextTokenizer tokenizer, int[] layers, SamplingSettings settings,
                      int batchSize) {
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
        this.batchSize = batchSize;
        for (int ignored : layers) {
            tops.add(new LayerTopK(model.neuronsPerLayer(), settings.topK(), settings.windowTokens()));
        }
        this.reservoir = new WindowReservoir(settings.reservoirSize(), settings.seed());
    }

    /**
     * Reads the whole corpus (or the cutter's window budget). {@code onStarted} runs once the
     * first batch shows the corpus has windows; an empty corpus is an error before it runs, so
     * nothing is announced for a run that cannot happen.
     */
    public PassResult run(WindowCutter cutter, String corpusName, Runnable onStarted, PassProgress progress)
            throws IOException {
        List<CorpusWindow> batch = cutter.nextBatch(batchSize);
        if (batch.isEmpty()) {
            throw new IllegalArgumentException("corpus " + corpusName + ": empty, no window of "
                    + settings.windowTokens() + " tokens (" + cutter.documentsRead()
                    + " documents read, none that long)");
        }
        onStarted.run();
        progress.started();
        long startNanos = System.nanoTime();
        int tokens = settings.windowTokens();
        int neurons = model.neuronsPerLayer();
        float[][] activations = new float[layers.length][];
        while (!batch.isEmpty()) {
            int[][] ids = new int[batch.size()][];
            for (int w = 0; w < ids.length; w++) {
                ids[w] = batch.get(w).ids();
            }
            activations = model.mlpActivations(ids, layers, activations);
            for (int l = 0; l < layers.length; l++) {
                if (activations[l].length != ids.length * tokens * neurons) {
                    throw new IllegalStateException("model returned " + activations[l].length
                            + " activations for layer " + layers[l] + ", expected " + ids.length * tokens * neurons);
                }
            }
            LayerTopK.offerAll(tops, activations, ids.length, batch.get(0).index());
            for (CorpusWindow w : batch) {
                reservoir.offer(w);
                topTokens.add(w);
            }
            topTokens.pruneIfLarge(tops);
            progress.update(cutter.windowsCut(), cutter.windowsCut() * tokens, cutter.fractionDone());
            batch = cutter.nextBatch(batchSize);
        }
        progress.finish();
        topTokens.prune(tops);
        log.info("pass done: {} windows in {} s; {} top windows' tokens kept; peak resident so far {} MiB",
                cutter.windowsCut(), String.format("%.1f", (System.nanoTime() - startNanos) / 1e9), topTokens.size(),
                PeakMemory.kib() / 1024);
        result = new PassResult(cutter.documentsRead(), cutter.windowsCut(), cutter.windowsCut() * tokens,
                cutter.tokensSkipped(), (System.nanoTime() - startNanos) / 1e9);
        return result;
    }

    /**
     * Builds each neuron's record, layer by layer, and hands it to {@code sink}. The random
     * windows' activations are recomputed here one layer at a time, so their memory is that of
     * one layer, not of the whole model.
     */
    public long emit(RunIdentity run, Instant producedAt, Consumer<NeuronActivations> sink) {
        if (result == null) {
            throw new IllegalStateException("emit before run");
        }
        ProducerRun runInfo = new ProducerRun(run.runId(), run.corpus(), settings.windowTokens(), settings.topK(),
                settings.random(), settings.seed(), producedAt);
        List<CorpusWindow> sample = reservoir.sample();
        long emitted = 0;
        for (int l = 0; l < layers.length; l++) {
            float[] randomActivations = recompute(sample, layers[l]);
            LayerTopK top = tops.get(l);
            for (int n = 0; n < top.neurons(); n++) {
                sink.accept(record(run, runInfo, layers[l], n, top, sample, randomActivations));
                emitted++;
            }
        }
        return emitted;
    }

    private NeuronActivations record(RunIdentity run, ProducerRun runInfo, int layer, int neuron, LayerTopK top,
                                     List<CorpusWindow> sample, float[] randomActivations) {
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
        // this neuron already uses and taking the next slot keeps the sample uniform.
        List<ActivationWindow> random = new ArrayList<>();
        int tokens = settings.windowTokens();
        int neurons = top.neurons();
        for (int slot = 0; slot < sample.size() && random.size() < settings.random(); slot++) {
            CorpusWindow w = sample.get(slot);
            if (used.contains(w.index())) {
                continue;
            }
            float[] values = new float[tokens];
            for (int t = 0; t < tokens; t++) {
                values[t] = randomActivations[(slot * tokens + t) * neurons + neuron];
            }
            random.add(window(w.index(), WindowKind.RANDOM, w.ids(), values));
        }
        float max = best.isEmpty() ? Float.NaN : best.get(0).maxActivation();
        NeuronStats stats = new NeuronStats(max, top.mean(neuron), top.windowsSeen(), top.windowsSeen() * tokens);
        return new NeuronActivations(new NeuronKey(run.model(), run.checkpoint(), layer, neuron),
                explanation, scoring, random, stats, runInfo);
    }

    private float[] recompute(List<CorpusWindow> sample, int layer) {
        int tokens = settings.windowTokens();
        int neurons = model.neuronsPerLayer();
        float[] all = new float[sample.size() * tokens * neurons];
        for (int from = 0; from < sample.size(); from += batchSize) {
            int to = Math.min(sample.size(), from + batchSize);
            int[][] ids = new int[to - from][];
            for (int i = from; i < to; i++) {
                ids[i - from] = sample.get(i).ids();
            }
            float[] part = model.mlpActivations(ids, new int[] {layer})[0];
            System.arraycopy(part, 0, all, from * tokens * neurons, part.length);
        }
        return all;
    }

    private ActivationWindow topWindow(TopWindow top) {
        int[] ids = topTokens.get(top.windowIndex());
        if (ids == null) {
            throw new IllegalStateException("token ids of kept window " + top.windowIndex() + " were pruned");
        }
        return window(top.windowIndex(), WindowKind.TOP, ids, top.activations());
    }

    private ActivationWindow window(long index, WindowKind kind, int[] ids, float[] activations) {
        List<String> texts = new ArrayList<>(ids.length);
        List<Integer> idList = new ArrayList<>(ids.length);
        List<Float> values = new ArrayList<>(activations.length);
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < ids.length; t++) {
            texts.add(tokenTexts.computeIfAbsent(ids[t], tokenizer::tokenText));
            idList.add(ids[t]);
            values.add(activations[t]);
            max = Math.max(max, activations[t]);
        }
        return new ActivationWindow(index, kind, texts, idList, values, max);
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
}
