package io.neuronexplainer.launcher.demo;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.scorer.ScoreFormulas;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntBiFunction;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * How the demo's scorers agree: every committed score on {@code neuron-scores} (read_committed, from
 * the start), one per neuron and scorer kind (an explanation's own, not a carried one), and per kind
 * the mean figure, the correlation between kinds across neurons and the LLM prompt tokens per neuron.
 */
final class ScorerComparison implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<NeuronScore> scores;
    /** Per scorer kind, each neuron's score. */
    private final Map<String, Map<NeuronKey, NeuronScore>> byKind = new HashMap<>();

    ScorerComparison(KafkaClients clients) {
        Map<String, Object> config = new HashMap<>(clients.consumer("unused"));
        config.remove("group.id");
        consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = consumer.partitionsFor(Topics.NEURON_SCORES).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        scores = AvroDeserializer.of(clients.registry(), NeuronScore.class);
    }

    void poll(Duration wait) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(wait)) {
            if (r.value() == null) {
                continue;
            }
            NeuronScore s = scores.deserialize(r.topic(), r.value());
            if (s.getCarriedFrom() == null) {
                byKind.computeIfAbsent(s.getScorerKind(), k -> new HashMap<>()).putIfAbsent(s.getNeuron(), s);
            }
        }
    }

    /** Neurons of {@code model} with a score of {@code kind}. */
    long count(String model, String kind) {
        return byKind.getOrDefault(kind, Map.of()).keySet().stream().filter(k -> k.getModel().equals(model)).count();
    }

    /** The prompt tokens a neuron's score of {@code kind} took, as the LLM reported them. */
    int reportedTokens(String kind, NeuronKey neuron) {
        NeuronScore s = byKind.getOrDefault(kind, Map.of()).get(neuron);
        return s == null ? 0 : s.getSimulationPromptTokens();
    }

    /** The figure a kind's score stands for: the correlation for simulation, else the balanced accuracy (NaN if undefined). */
    static double figure(NeuronScore s) {
        if (Identities.SIMULATION_SCORER.equals(s.getScorerKind())) {
            return s.getCorrelation();
        }
        return s.getBalancedAccuracy() == null ? Double.NaN : s.getBalancedAccuracy();
    }

    /**
     * The table: per kind the neurons scored, the mean figure (and mean AUROC where defined), the
     * Pearson correlation with each other kind across the neurons both define, and the mean prompt
     * tokens per neuron from {@code tokens} (kind and neuron to tokens).
     */
    void print(PrintStream out, String model, List<String> kinds, ToIntBiFunction<String, NeuronKey> tokens, String tokensNote) {
        out.println("scorers over the same explanations (simulation: correlation; detection, fuzzing: balanced accuracy):");
        out.print("scorer       neurons   mean    auroc");
        kinds.forEach(k -> out.printf("  r(%s)", k.substring(0, 3)));
        out.println("  prompt tokens / neuron");
        for (String kind : kinds) {
            Map<NeuronKey, NeuronScore> mine = of(model, kind);
            double sum = 0;
            int n = 0;
            double aurocSum = 0;
            int aurocs = 0;
            long tokenSum = 0;
            for (Map.Entry<NeuronKey, NeuronScore> e : mine.entrySet()) {
                double f = figure(e.getValue());
                if (!Double.isNaN(f)) {
                    sum += f;
                    n++;
                }
                if (e.getValue().getAuroc() != null) {
                    aurocSum += e.getValue().getAuroc();
                    aurocs++;
                }
                tokenSum += tokens.applyAsInt(kind, e.getKey());
            }
            out.printf("%-11s %8d  %6.3f  %6s", kind, mine.size(), n == 0 ? 0 : sum / n,
                    aurocs == 0 ? "-" : String.format("%.3f", aurocSum / aurocs));
            for (String other : kinds) {
                out.printf("  %6s", String.format("%.3f", correlation(mine, of(model, other))));
            }
            out.printf("  %,.0f%n", mine.isEmpty() ? 0.0 : (double) tokenSum / mine.size());
        }
        out.println("(" + tokensNote + ")");
    }

    private Map<NeuronKey, NeuronScore> of(String model, String kind) {
        Map<NeuronKey, NeuronScore> out = new HashMap<>();
        byKind.getOrDefault(kind, Map.of()).forEach((k, s) -> {
            if (k.getModel().equals(model)) {
                out.put(k, s);
            }
        });
        return out;
    }

    /** Pearson r of two kinds' figures over the neurons both define; NaN with fewer than 2. */
    static double correlation(Map<NeuronKey, NeuronScore> a, Map<NeuronKey, NeuronScore> b) {
        List<double[]> pairs = new ArrayList<>();
        a.forEach((k, s) -> {
            NeuronScore t = b.get(k);
            if (t != null && !Double.isNaN(figure(s)) && !Double.isNaN(figure(t))) {
                pairs.add(new double[] {figure(s), figure(t)});
            }
        });
        double[] x = new double[pairs.size()];
        double[] y = new double[pairs.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = pairs.get(i)[0];
            y[i] = pairs.get(i)[1];
        }
        return ScoreFormulas.correlation(x, y).orElse(Double.NaN);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
