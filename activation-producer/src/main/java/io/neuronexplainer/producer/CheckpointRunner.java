package io.neuronexplainer.producer;

import io.neuronexplainer.producer.ActivationProducer.RunDetails;
import io.neuronexplainer.producer.corpus.CorpusFingerprint;
import io.neuronexplainer.producer.corpus.CorpusSource;
import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.producer.model.Gpt2Model;
import io.neuronexplainer.producer.model.Gpt2Tokenizer;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.CheckpointRun;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs checkpoints through the producer with one corpus and one set of sampling settings (a
 * series): computes each run's identity, skips a run already COMPLETED with that identity unless
 * forced, and otherwise runs the pass and writes its records.
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
        return RunIdentity.of(c.model(), c.checkpoint(), corpusName, corpusFingerprint(), settings, windows);
    }

    /** Runs {@code c} unless the same run already completed (and not forced). */
    public Outcome run(Checkpoint c) throws IOException {
        RunIdentity run = identity(c);
        if (!force) {
            Optional<CheckpointRun> done = CheckpointRuns.read(clients).completed(run.runId(), neurons);
            if (done.isPresent()) {
                log.info("run {} ({} / {} over {}) already COMPLETED at {}: skipped (--force runs it again)", run.runId(),
                        run.model(), run.checkpoint(), run.corpus(), done.get().getUpdatedAt());
                return new Outcome(run, null, done.get());
            }
        }
        try (Gpt2Tokenizer tok = Gpt2Tokenizer.forModel(c.folder(), c.tokenizer());
             Gpt2Model gpt2 = Gpt2Model.load(c.folder())) {
            int[] chosen = layers != null ? layers : NeuronSelection.layersToRun(selection, gpt2.layers());
            CorpusPass pass = new CorpusPass(gpt2, tok, chosen, settings, batch);
            try (WindowCutter cutter = new WindowCutter(corpus.open(), tok, settings.windowTokens(), windows)) {
                ProduceSummary summary = new ActivationProducer(clients).produce(run, pass, cutter, progress.get(), selection,
                        new RunDetails(c.step(), neurons, windows));
                return new Outcome(run, summary, null);
            }
        }
    }
}
