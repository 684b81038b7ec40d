package io.neuronexplainer.launcher.demo;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.DriftKey;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.Topics;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
    /** A carried explanation "holds" when its score on the new windows is within this of its old score. */
    static final double HOLDS_WITHIN = 0.1;

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
        Map<Integer, Map<String, List<NeuronDrift>>> byLayer = new TreeMap<>();
        for (NeuronDrift d : drifts) {
            String pair = d.getKey().getFromCheckpoint() + " -> " + d.getKey().getToCheckpoint();
            byLayer.computeIfAbsent(d.getKey().getLayer(), l -> new LinkedHashMap<>())
                    .computeIfAbsent(pair, p -> new ArrayList<>()).add(d);
        }
        out.println("drift per layer (mean activation drift / carried explanations holding within " + HOLDS_WITHIN + "):");
        out.print("layer");
        pairs.forEach(p -> out.printf("  %32s", p));
        out.println();
        for (var layer : byLayer.entrySet()) {
            out.printf("%5d", layer.getKey());
            for (String p : pairs) {
                List<NeuronDrift> ds = layer.getValue().getOrDefault(p, List.of());
                out.printf("  %32s", ds.isEmpty() ? "-" : String.format("%.3f / %3.0f%%", meanDrift(ds), 100 * holdRate(ds)));
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

    static double meanDrift(List<NeuronDrift> ds) {
        return ds.stream().mapToDouble(NeuronDrift::getActivationDrift).average().orElse(Double.NaN);
    }

    /** Share of pairs whose carried explanation scores within {@link #HOLDS_WITHIN} of its old score (of those with both). */
    static double holdRate(List<NeuronDrift> ds) {
        long with = ds.stream().filter(d -> d.getCarriedCorrelation() != null && d.getFromBest() != null).count();
        long holds = ds.stream().filter(d -> d.getCarriedCorrelation() != null && d.getFromBest() != null
                && d.getCarriedCorrelation() >= d.getFromBest() - HOLDS_WITHIN).count();
        return with == 0 ? Double.NaN : (double) holds / with;
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
