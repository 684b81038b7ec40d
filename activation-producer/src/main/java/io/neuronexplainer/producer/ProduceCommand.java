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
import io.neuronexplainer.runtime.ServiceMain;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
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
            description = "Seed of the random window sample (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--model-name", description = "Model name in the records (default: the model folder's parent's name).")
    String modelName;

    @Option(names = "--checkpoint-name", description = "Checkpoint name in the records (default: the model folder's name).")
    String checkpointName;

    @Option(names = "--corpus-name", description = "Corpus name in the records (default: the corpus file's or folder's name, or europarl-en).")
    String corpusName;

    @Mixin
    ConnectionOptions connection;

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            long start = System.nanoTime();
            if (windows < 0) {
                throw new IllegalArgumentException("--windows must be >= 0 (0 = the whole corpus), not " + windows);
            }
            SamplingSettings settings = new SamplingSettings(SamplingSettings.WINDOW_TOKENS, topK, explainTop,
                    scoreTop, random, seed);
            Path modelDir = model != null ? model : DefaultModel.folder();
            if (!Files.isDirectory(modelDir)) {
                throw new IllegalArgumentException("--model " + modelDir + ": no such folder");
            }
            CorpusSource source = CorpusSource.of(corpus); // checks the path before anything starts
            CheckpointName names = CheckpointName.fromFolder(modelDir);
            RunIdentity run = new RunIdentity(modelName != null ? modelName : names.model(),
                    checkpointName != null ? checkpointName : names.checkpoint(),
                    corpusName != null ? corpusName : source.name(), UUID.randomUUID().toString());
            ProduceSummary summary;
            try (Gpt2Tokenizer tok = Gpt2Tokenizer.forModel(modelDir, tokenizer);
                 Gpt2Model gpt2 = Gpt2Model.load(modelDir)) {
                NeuronSelection selection = neurons == null ? null : NeuronSelection.parse(neurons);
                if (selection != null && layers != null) {
                    throw new IllegalArgumentException("give --neurons or --layers, not both");
                }
                int[] chosen = layers != null ? layers : NeuronSelection.layersToRun(selection, gpt2.layers());
                CorpusPass pass = new CorpusPass(gpt2, tok, chosen, settings, batch);
                try (Connection kafka = connection.open();
                     WindowCutter cutter = new WindowCutter(source.open(), tok, settings.windowTokens(), windows)) {
                    summary = new ActivationProducer(kafka.clients()).produce(run, pass, cutter,
                            ProgressReporter.forThisProcess(), selection);
                }
            }
            print(System.out, summary, (System.nanoTime() - start) / 1e9);
            return 0;
        });
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
