package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.DriftKey;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Interactive queries over the scorer's local stores: a neuron's activations, simulations and
 * scores, the per-layer aggregates, and the best-scoring neurons. With several scorer instances
 * each one answers for the partitions it owns.
 */
public final class ScorerStores {
    /** How long a query waits for stores that are being assigned or restored (a rebalance) before it gives up. */
    static final Duration STORE_WAIT = Duration.ofSeconds(30);

    private final KafkaStreams streams;
    private final Deserializer<NeuronActivations> activationsReader;
    private final NeuronRuns neuronRuns;

    ScorerStores(KafkaStreams streams, Deserializer<NeuronActivations> activationsReader, NeuronRuns neuronRuns) {
        this.streams = streams;
        this.activationsReader = activationsReader;
        this.neuronRuns = neuronRuns;
    }

    private <K, V> ReadOnlyKeyValueStore<K, V> store(String name) {
        return streams.store(StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.<K, V>keyValueStore()));
    }

    /**
     * Runs a query, again while the app is starting or rebalancing: stores are unavailable for a
     * moment after every partition assignment, which callers should not see as a failure.
     * Gives up with the store's exception after {@link #STORE_WAIT} or once the app has stopped.
     */
    private <T> T query(Supplier<T> body) {
        long deadline = System.nanoTime() + STORE_WAIT.toNanos();
        while (true) {
            try {
                return body.get();
            } catch (InvalidStateStoreException e) {
                KafkaStreams.State state = streams.state();
                boolean settling = state == KafkaStreams.State.CREATED || state.isRunningOrRebalancing();
                if (!settling || System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /**
     * The neuron's activations: of its best score's run when it has one, else of its latest run
     * (a neuron has one entry per run of its checkpoint).
     */
    public Optional<NeuronActivations> activations(NeuronKey key) {
        List<KeyValue<ActivationsKey, byte[]>> runs = query(() -> neuronRuns.of(this.<ActivationsKey, byte[]>store(
                ScorerTopology.ACTIVATIONS_STORE), key));
        String bestRun = runs.size() > 1 ? best(key).map(NeuronScore::getRunId).orElse(null) : null;
        NeuronActivations chosen = null;
        for (KeyValue<ActivationsKey, byte[]> run : runs) {
            NeuronActivations a = activationsReader.deserialize(Topics.NEURON_ACTIVATIONS, run.value);
            if (run.key.getRunId().equals(bestRun)) {
                return Optional.of(a);
            }
            if (chosen == null || a.getRun().getProducedAt().isAfter(chosen.getRun().getProducedAt())) {
                chosen = a;
            }
        }
        return Optional.ofNullable(chosen);
    }

    /** Every neuron with activations in the local stores, in key order. */
    public List<NeuronKey> neurons() {
        return query(() -> {
            Set<NeuronKey> out = new TreeSet<>();
            try (KeyValueIterator<ActivationsKey, byte[]> it = this.<ActivationsKey, byte[]>store(ScorerTopology.ACTIVATIONS_STORE).all()) {
                it.forEachRemaining(kv -> out.add(kv.key.getNeuron()));
            }
            return new ArrayList<>(out);
        });
    }

    public List<Simulation> simulations(NeuronKey key) {
        return this.<Decoded<Simulation>>range(ScorerTopology.SIMULATIONS_STORE, StoreKeys.neuron(key)).stream()
                .map(Decoded::value).toList();
    }

    public List<NeuronScore> scores(NeuronKey key) {
        return range(ScorerTopology.SCORES_STORE, StoreKeys.neuron(key));
    }

    public Optional<NeuronScore> best(NeuronKey key) {
        return Optional.ofNullable(query(() -> this.<NeuronKey, NeuronScore>store(ScorerTopology.BEST_STORE).get(key)));
    }

    private <V> List<V> range(String store, String prefix) {
        return query(() -> {
            List<V> out = new ArrayList<>();
            try (KeyValueIterator<String, V> it = this.<String, V>store(store).range(prefix, prefix + '\uffff')) {
                it.forEachRemaining(kv -> out.add(kv.value));
            }
            return out;
        });
    }

    /**
     * The neuron's drift between consecutive checkpoints of its series, earlier pairs first. Scans
     * the drift store: one entry per neuron and pair, fine for a viewer up to a few thousand
     * neurons per checkpoint on each instance.
     */
    public List<NeuronDrift> history(String model, int layer, int neuron) {
        return drift(d -> d.getKey().getModel().equals(model) && d.getKey().getLayer() == layer && d.getKey().getNeuron() == neuron,
                Comparator.comparingLong(NeuronDrift::getFromStep).thenComparing(d -> d.getKey().getFromCheckpoint()));
    }

    /** Drift records matching {@code filter}, sorted by {@code order}. */
    public List<NeuronDrift> drift(java.util.function.Predicate<NeuronDrift> filter, Comparator<NeuronDrift> order) {
        List<NeuronDrift> out = query(() -> {
            List<NeuronDrift> found = new ArrayList<>();
            try (KeyValueIterator<DriftKey, NeuronDrift> it = this.<DriftKey, NeuronDrift>store(ScorerTopology.DRIFT_STORE).all()) {
                it.forEachRemaining(kv -> {
                    if (kv.value != null && filter.test(kv.value)) {
                        found.add(kv.value);
                    }
                });
            }
            return found;
        });
        out.sort(order);
        return out;
    }

    /** Every (model, checkpoint, layer) aggregate with at least one neuron, in key order. */
    public List<LayerAggregate> layers() {
        List<LayerAggregate> out = query(() -> {
            List<LayerAggregate> found = new ArrayList<>();
            try (KeyValueIterator<String, LayerAggregate> it = this.<String, LayerAggregate>store(ScorerTopology.LAYERS_STORE).all()) {
                it.forEachRemaining(kv -> {
                    if (kv.value != null && !kv.value.isEmpty()) {
                        found.add(kv.value);
                    }
                });
            }
            return found;
        });
        out.sort(Comparator.comparing(LayerAggregate::model).thenComparing(LayerAggregate::checkpoint)
                .thenComparingInt(LayerAggregate::layer));
        return out;
    }

    /**
     * Every (model, checkpoint, layer, scorer kind)'s figures ({@link ScorerLayerAggregates}: one score
     * per neuron and kind), computed now from the local "scores" store rather than kept as a KTable
     * aggregate like {@link #layers}. Acceptable: the scan reads one entry per score of this
     * instance's partitions (a few per neuron and explanation, about a hundred thousand for GPT-2
     * small), a fraction of a second asked for by a person or a gauge refresh the scorer paces (see
     * {@code Scorer}); an incremental aggregate would have to retract a neuron's old figure of every
     * kind whenever its best explanation changes, which is another changelogged store and topology
     * node for figures nobody reads at record rate.
     */
    public List<ScorerLayerAggregate> scorerLayers() {
        return query(() -> {
            ScorerLayerAggregates out = new ScorerLayerAggregates();
            try (KeyValueIterator<String, NeuronScore> it = this.<String, NeuronScore>store(ScorerTopology.SCORES_STORE).all()) {
                it.forEachRemaining(kv -> {
                    if (kv.value != null) {
                        out.add(kv.value);
                    }
                });
            }
            return out.result();
        });
    }

    /**
     * Neurons' best scores at or above {@code threshold}, best first; null filters match all.
     * Scans the best-score store: one entry per neuron, fine for a viewer up to GPT-2 XL size.
     */
    public List<NeuronScore> bestScores(String model, String checkpoint, Integer layer, double threshold, int limit) {
        List<NeuronScore> out = query(() -> {
            List<NeuronScore> found = new ArrayList<>();
            try (KeyValueIterator<NeuronKey, NeuronScore> it = this.<NeuronKey, NeuronScore>store(ScorerTopology.BEST_STORE).all()) {
                while (it.hasNext()) {
                    NeuronScore s = it.next().value;
                    NeuronKey k = s.getNeuron();
                    if (s.getCorrelation() >= threshold && (model == null || model.equals(k.getModel()))
                            && (checkpoint == null || checkpoint.equals(k.getCheckpoint()))
                            && (layer == null || layer == k.getLayer())) {
                        found.add(s);
                    }
                }
            }
            return found;
        });
        out.sort((a, b) -> BestExplanation.better(a, b) ? -1 : BestExplanation.better(b, a) ? 1 : 0);
        return out.size() > limit ? new ArrayList<>(out.subList(0, limit)) : out;
    }

    /** Neurons with a best explanation, summed over the layer aggregates. */
    public long scoredNeurons() {
        return layers().stream().mapToLong(LayerAggregate::count).sum();
    }
}
