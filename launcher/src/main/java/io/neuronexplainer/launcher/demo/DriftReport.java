package io.neuronexplainer.launcher.demo;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.DriftKey;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.scorer.drift.LayerDrift;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The demo's view of {@code neuron-drift}: the latest drift of each neuron and checkpoint pair
 * (a tombstone removes a pair a late checkpoint split), read as it is committed, and the table
 * {@code demo --follow} ends with.
 */
final class DriftReport implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<DriftKey> keys;
    private final AvroDeserializer<NeuronDrift> values;
    private final Map<DriftKey, NeuronDrift> latest = new HashMap<>();

    DriftReport(KafkaClients clients) {
        Map<String, Object> config = new HashMap<>(clients.consumer("unused"));
        config.remove("group.id");
        consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = consumer.partitionsFor(Topics.NEURON_DRIFT).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        keys = AvroDeserializer.of(clients.registry(), DriftKey.class);
        values = AvroDeserializer.of(clients.registry(), NeuronDrift.class);
    }

    void poll(Duration wait) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(wait)) {
            DriftKey key = keys.deserialize(r.topic(), r.key());
            if (r.value() == null) {
                latest.remove(key);
            } else {
                latest.put(key, values.deserialize(r.topic(), r.value()));
            }
        }
    }

    /** The model's pairs whose every figure is in: both best scores and the carried correlation. */
    long complete(String model) {
        return latest.values().stream().filter(d -> d.getKey().getModel().equals(model) && d.getScoreDelta() != null
                && d.getCarriedCorrelation() != null).count();
    }

    /**
     * Neuron pairs of consecutive checkpoints that will get every figure: a neuron dead-lettered at
     * either checkpoint of a pair has no best score there, so that pair never completes.
     */
    static long expectedPairs(List<String> checkpoints, long perCheckpoint, List<FinishedNeurons.Letter> unscored) {
        long pairs = 0;
        for (int i = 1; i < checkpoints.size(); i++) {
            String from = checkpoints.get(i - 1);
            String to = checkpoints.get(i);
            java.util.Set<String> missing = new java.util.HashSet<>();
            for (FinishedNeurons.Letter l : unscored) {
                if (l.neuron().getCheckpoint().equals(from) || l.neuron().getCheckpoint().equals(to)) {
                    missing.add(l.neuron().getLayer() + ":" + l.neuron().getNeuron());
                }
            }
            pairs += perCheckpoint - missing.size();
        }
        return pairs;
    }

    /** Waits until {@code expected} pairs of {@code model} are complete; false if they were not in time. */
    boolean await(String model, long expected, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (complete(model) < expected) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            poll(Duration.ofMillis(200));
        }
        return true;
    }

    List<NeuronDrift> of(String model) {
        return latest.values().stream().filter(d -> d.getKey().getModel().equals(model)).toList();
    }

    /**
     * Per layer and consecutive pair: mean activation drift and the share of carried explanations
     * that hold; then the neurons that changed most, with their old and new explanations.
     */
    void print(PrintStream out, String model, List<String> checkpoints, int mostChanged) {
        List<NeuronDrift> drifts = of(model);
        List<String> pairs = new ArrayList<>();
        for (int i = 1; i < checkpoints.size(); i++) {
            pairs.add(checkpoints.get(i - 1) + " -> " + checkpoints.get(i));
        }
        Map<Integer, Map<String, LayerDrift>> byLayer = new TreeMap<>();
        for (LayerDrift d : LayerDrift.of(drifts)) {
            byLayer.computeIfAbsent(d.layer(), l -> new LinkedHashMap<>()).put(d.from() + " -> " + d.to(), d);
        }
        out.println("drift per layer (mean activation drift / carried explanations holding within " + LayerDrift.HOLDS_WITHIN
                + " / became explainable / stopped):");
        out.print("layer");
        pairs.forEach(p -> out.printf("  %32s", p));
        out.println();
        for (var layer : byLayer.entrySet()) {
            out.printf("%5d", layer.getKey());
            for (String p : pairs) {
                LayerDrift d = layer.getValue().get(p);
                out.printf("  %32s", d == null ? "-" : String.format("%.3f / %3.0f%% / +%d / -%d", d.meanActivationDrift(),
                        100 * d.holdRate(), d.becameExplainable().size(), d.stoppedExplainable().size()));
            }
            out.println();
        }
        out.println();
        out.println("most changed neurons (activation drift, score before -> after, explanations):");
        drifts.stream().sorted(Comparator.comparingDouble(NeuronDrift::getActivationDrift).reversed()).limit(mostChanged)
                .forEach(d -> out.printf("  L%d N%-4d %s -> %s  drift %.3f  score %s -> %s%n      before: %s%n      after:  %s%n",
                        d.getKey().getLayer(), d.getKey().getNeuron(), d.getKey().getFromCheckpoint(),
                        d.getKey().getToCheckpoint(), d.getActivationDrift(), figure(d.getFromBest()), figure(d.getToBest()),
                        shorten(d.getFromExplanation()), shorten(d.getToExplanation())));
    }

    /**
     * Per consecutive pair: the later checkpoint's LLM prompt tokens with explanations reused
     * (carried simulations included) and without (every neuron explained anew), and the net saving.
     *
     * @param counted fills a record's token fields (identity when the LLM reported them)
     */
    void printTokens(PrintStream out, String model, List<String> checkpoints, UnaryOperator<NeuronDrift> counted) {
        Map<String, long[]> byPair = new LinkedHashMap<>();
        for (int i = 1; i < checkpoints.size(); i++) {
            byPair.put(checkpoints.get(i - 1) + " -> " + checkpoints.get(i), new long[5]);
        }
        long start = System.nanoTime();
        // Counting tokenizes every prompt: both cores share it.
        List<NeuronDrift> records = of(model).parallelStream().filter(d -> byPair.containsKey(pair(d))).map(counted).toList();
        long[] all = new long[5];
        for (NeuronDrift c : records) {
            for (long[] sums : List.of(byPair.get(pair(c)), all)) {
                sums[0] += c.getExplanationReused() ? 1 : 0;
                sums[1]++;
                sums[2] += LayerDrift.tokensWithReuse(c);
                sums[3] += LayerDrift.tokensWithoutReuse(c);
                sums[4] += c.getCarriedPromptTokens() == null ? 0 : c.getCarriedPromptTokens();
            }
        }
        out.printf("%-30s %14s %14s %14s %21s %21s%n", "pair", "reused",
                "with reuse", "without reuse", "net saving", "beside drift");
        byPair.put("all pairs", all);
        for (var e : byPair.entrySet()) {
            long[] s = e.getValue();
            // Beside drift: drift asks for the carried simulations either way; counted as its cost,
            // reuse saves what the kept explanations would have cost anew.
            long besideDrift = s[3] + s[4] - s[2];
            out.printf("%-30s %14s %,14d %,14d %,13d (%5.1f%%) %,13d (%5.1f%%)%n", e.getKey(), s[0] + " of " + s[1], s[2], s[3],
                    s[3] - s[2], percent(s[3] - s[2], s[3]), besideDrift, percent(besideDrift, s[3] + s[4]));
        }
        out.printf("(net saving: without - with reuse, carried simulations counted against reuse; beside drift: the carried "
                + "simulations counted as drift's own cost; %d records counted in %.1f s)%n", records.size(),
                (System.nanoTime() - start) / 1e9);
    }

    private static String pair(NeuronDrift d) {
        return d.getKey().getFromCheckpoint() + " -> " + d.getKey().getToCheckpoint();
    }

    private static double percent(long part, long whole) {
        return whole == 0 ? 0.0 : 100.0 * part / whole;
    }

    /** An explanation cut to one readable line (the offline explainer's run long). */
    static String shorten(String text) {
        if (text == null) {
            return "-";
        }
        String line = text.strip().replace('\n', ' ');
        return line.length() <= 110 ? line : line.substring(0, 107) + "...";
    }

    private static String figure(Double d) {
        return d == null ? "-" : String.format("%.3f", d);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
