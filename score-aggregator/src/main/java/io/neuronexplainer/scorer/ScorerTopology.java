package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.AvroSerde;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.DriftKey;
import io.neuronexplainer.schemas.DriftPoint;
import io.neuronexplainer.schemas.DriftRequest;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronPartitioner;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.RegistryClient;
import io.neuronexplainer.schemas.ScoreKey;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.scorer.drift.DriftOutput;
import io.neuronexplainer.scorer.drift.DriftPoints;
import io.neuronexplainer.scorer.drift.DriftRequests;
import io.neuronexplainer.scorer.drift.DriftTracker;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The scorer's Kafka Streams topology.
 *
 * <pre>
 * neuron-activations ─► KTable "activations" (neuron, run) ─► re-keyed by neuron ─┐
 *                                                                                ├─► ScoreJoiner ("simulations" store) ─► neuron-scores (keyed by score id)
 * neuron-simulations ────────────────────────────────────────────────────────────┘        │           └─► neuron-simulations-dlq (refused)
 *                                                                                         └─► BestExplanation ("scores") ─► neuron-best-scores (simulation scores only)
 * neuron-best-scores ─► KTable "best-scores" ─► groupBy layer ─► aggregate "layer-aggregates"
 * arrivals ─► OrphanSweeper ("waiting-simulations", wall-clock punctuator) ─► neuron-simulations-dlq (orphans)
 * activations, new bests, carried scores ─► drift-events ─► DriftTracker ("drift-points") ─► neuron-drift ─► KTable "drift"
 *     └─► carried simulations, explanations asked for ─► drift-requests ─► DriftRequests ("activations") ─► simulation-requests
 *                                                                                                      └─► explanation-requests
 * </pre>
 *
 * The re-keying needs no repartition: NeuronPartitioner puts every run of a neuron's activations
 * on its simulations' partition. The best-scores table is read back from its topic because a
 * table built from the re-keyed stream would force one.
 *
 * The "scores" store is keyed by score identity and read by ScoreJoiner too: a join whose score
 * already exists (the simulation or the activations delivered again) makes no second score.
 *
 * Detection and fuzzing simulations (a judge's answers) take the same path: joined, scored by
 * their kind ({@link ExplanationScorer}), kept in "scores" and written to neuron-scores, but never
 * a neuron's best nor part of the drift; their per-layer figures are computed at query time
 * ({@link ScorerStores#scorerLayers}).
 *
 * The layer aggregate is a KTable aggregate with an adder and a subtractor: when a neuron's best
 * score changes (a new explanation scored) its old contribution is
 * subtracted before the new one is added, so nothing is counted twice.
 */
public final class ScorerTopology {
    public static final String ACTIVATIONS_STORE = "activations";
    public static final String SIMULATIONS_STORE = "simulations";
    public static final String SCORES_STORE = "scores";
    public static final String BEST_STORE = "best-scores";
    public static final String LAYERS_STORE = "layer-aggregates";
    /** The latest drift of each neuron and checkpoint pair, as on neuron-drift. */
    public static final String DRIFT_STORE = "drift";
    /** Simulations not scored yet, with the wall-clock time each began to wait. */
    public static final String WAITING_STORE = "waiting-simulations";

    private ScorerTopology() {}

    public static Topology build(RegistryClient registry, ScorerMetrics metrics, Duration orphanTimeout, Properties props) {
        return build(registry, metrics, orphanTimeout, null, props);
    }

    /** @param reuseThreshold with explanations reused across checkpoints, the share of its old score a carried one must keep; else null */
    public static Topology build(RegistryClient registry, ScorerMetrics metrics, Duration orphanTimeout, Double reuseThreshold,
                                 Properties props) {
        Serde<NeuronKey> keySerde = AvroSerde.of(registry, NeuronKey.class, true);
        Serde<Simulation> simulationSerde = AvroSerde.of(registry, Simulation.class, false);
        // Simulations are kept in their store, and dead-lettered, in the bytes they came in: never encoded again.
        Serde<Decoded<Simulation>> receivedSimulations = Decoded.serde(simulationSerde);
        Serde<NeuronScore> scoreSerde = AvroSerde.of(registry, NeuronScore.class, false);
        Serde<DeadLetter> deadLetterSerde = AvroSerde.of(registry, DeadLetter.class, false);

        StreamsBuilder builder = new StreamsBuilder();
        // Caching off: a cached table would forward the activations only at commit, after a
        // simulation arriving meanwhile was already scored, and the neuron would be scored twice.
        // The activations table keeps the records' bytes as they came (restored from the compacted
        // topic itself): the biggest records are then never re-encoded, which the profile showed
        // was a third of the stream thread's work. They are decoded only to be scored: once for
        // the simulations waiting for them, or once per simulation arriving after them.
        // Keyed by neuron and run, so each run's windows are kept; a neuron's runs share its
        // simulations' partition (NeuronPartitioner), so the join below needs no repartition.
        Serde<ActivationsKey> activationsKeySerde = AvroSerde.of(registry, ActivationsKey.class, true);
        KTable<ActivationsKey, byte[]> activations = builder.table(Topics.NEURON_ACTIVATIONS,
                Consumed.with(activationsKeySerde, Serdes.ByteArray()),
                Materialized.<ActivationsKey, byte[], KeyValueStore<Bytes, byte[]>>as(ACTIVATIONS_STORE)
                        .withKeySerde(activationsKeySerde).withValueSerde(Serdes.ByteArray()).withCachingDisabled());
        Deserializer<NeuronActivations> activationsReader = ActivationsProjection.scoring(registry);
        Deserializer<NeuronActivations> driftReader = ActivationsProjection.drift(registry);
        builder.addStateStore(Stores.timestampedKeyValueStoreBuilder(
                Stores.persistentTimestampedKeyValueStore(SIMULATIONS_STORE), Serdes.String(), receivedSimulations)
                .withCachingDisabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(SCORES_STORE), Serdes.String(), scoreSerde)
                .withCachingDisabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(WAITING_STORE), Serdes.String(), Serdes.Long())
                .withCachingDisabled());

        KStream<NeuronKey, Arrival> arrivals = activations.toStream(Named.as("activations-arrive"))
                .filter((k, v) -> v != null)
                .map((k, v) -> KeyValue.pair(k.getNeuron(), Arrival.ofActivations(v)), Named.as("activations-by-neuron"))
                .merge(builder.stream(Topics.NEURON_SIMULATIONS, Consumed.with(keySerde, receivedSimulations))
                        .filter((k, v) -> k != null && v != null)
                        .mapValues(Arrival::of));
        KStream<NeuronKey, JoinOutcome> outcomes = arrivals.processValues(() -> new ScoreJoiner(metrics, activationsReader),
                Named.as("score-joiner"), ACTIVATIONS_STORE, SIMULATIONS_STORE, SCORES_STORE, WAITING_STORE);

        KStream<NeuronKey, NeuronScore> scores = outcomes.filter((k, o) -> o.isScore()).mapValues(JoinOutcome::score);
        // Keyed by score identity, so compaction keeps every distinct score of a neuron (methods, explanations, runs).
        Serde<ScoreKey> scoreKeySerde = AvroSerde.of(registry, ScoreKey.class, true);
        scores.map((k, s) -> KeyValue.pair(new ScoreKey(k, s.getScoreId()), s), Named.as("by-score-id"))
                .to(Topics.NEURON_SCORES, Produced.with(scoreKeySerde, scoreSerde));

        var keySerializer = keySerde.serializer();
        outcomes.filter((k, o) -> !o.isScore())
                .mapValues((k, o) -> new DeadLetter("score-aggregator", Topics.NEURON_SIMULATIONS, o.partition(), o.offset(),
                        ByteBuffer.wrap(keySerializer.serialize(Topics.NEURON_SIMULATIONS, k)),
                        ByteBuffer.wrap(o.refused().bytes()), // as the simulation came
                        InvalidSimulationException.class.getName(), o.reason(), 1, Instant.now()))
                .to(Topics.deadLetter(Topics.NEURON_SIMULATIONS), Produced.with(keySerde, deadLetterSerde));

        KStream<NeuronKey, NeuronScore> bestChanges = scores.processValues(BestExplanation::new, Named.as("best-explanation"), SCORES_STORE);
        bestChanges.to(Topics.NEURON_BEST_SCORES, Produced.with(keySerde, scoreSerde));
        // The best-scores table is read back from its compacted topic (restored from it too, no
        // changelog): the join's stream is re-keyed from (neuron, run) to neuron without a
        // repartition, which a table built from it directly would force.
        KTable<NeuronKey, NeuronScore> best = builder.table(Topics.NEURON_BEST_SCORES, Consumed.with(keySerde, scoreSerde),
                Materialized.<NeuronKey, NeuronScore, KeyValueStore<Bytes, byte[]>>as(BEST_STORE)
                        .withKeySerde(keySerde).withValueSerde(scoreSerde));
        best.groupBy((k, s) -> KeyValue.pair(StoreKeys.layer(k), s), Grouped.with("by-layer", Serdes.String(), scoreSerde))
                .aggregate(() -> null,
                        (layer, s, agg) -> (agg == null ? empty(s) : agg).add(s.getCorrelation()),
                        (layer, s, agg) -> (agg == null ? empty(s) : agg).remove(s.getCorrelation()),
                        Materialized.<String, LayerAggregate, KeyValueStore<Bytes, byte[]>>as(LAYERS_STORE)
                                .withKeySerde(Serdes.String()).withValueSerde(new LayerAggregateSerde()));

        // Drift across the checkpoints of a series: activations, best scores and carried scores,
        // re-keyed by the neuron across checkpoints, meet in DriftTracker.
        Serde<DriftPoint> pointSerde = AvroSerde.of(registry, DriftPoint.class, false);
        KStream<String, DriftPoint> driftEvents = activations.toStream(Named.as("activations-to-drift"))
                .filter((k, v) -> v != null)
                .map((k, v) -> KeyValue.pair(DriftPoints.neuronKey(k.getNeuron()),
                        DriftPoints.of(driftReader.deserialize(Topics.NEURON_ACTIVATIONS, v))), Named.as("drift-activations"))
                .merge(bestChanges.map((k, s) -> KeyValue.pair(DriftPoints.neuronKey(k), DriftPoints.best(s)), Named.as("drift-best")))
                .merge(scores.filter((k, s) -> s.getCarriedFrom() != null
                                && Identities.SIMULATION_SCORER.equals(s.getScorerKind())) // drift compares correlations
                        .map((k, s) -> KeyValue.pair(DriftPoints.neuronKey(k), DriftPoints.carried(s)), Named.as("drift-carried")));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DriftTracker.STORE),
                Serdes.String(), pointSerde).withCachingDisabled());
        KStream<String, DriftOutput> driftOut = driftEvents
                .repartition(Repartitioned.with(Serdes.String(), pointSerde).withName("drift-events"))
                .process(() -> new DriftTracker(reuseThreshold, orphanTimeout), Named.as("drift-tracker"), DriftTracker.STORE);
        Serde<DriftKey> driftKeySerde = AvroSerde.of(registry, DriftKey.class, true);
        Serde<NeuronDrift> driftSerde = AvroSerde.of(registry, NeuronDrift.class, false);
        driftOut.filter((k, o) -> o.isDrift()).map((k, o) -> KeyValue.pair(o.driftKey(), o.drift()), Named.as("drift-out"))
                .to(Topics.NEURON_DRIFT, Produced.with(driftKeySerde, driftSerde));
        // Read back for the API and the export (restored from the compacted topic itself, no changelog).
        builder.table(Topics.NEURON_DRIFT, Consumed.with(driftKeySerde, driftSerde),
                Materialized.<DriftKey, NeuronDrift, KeyValueStore<Bytes, byte[]>>as(DRIFT_STORE)
                        .withKeySerde(driftKeySerde).withValueSerde(driftSerde));
        driftOut.filter((k, o) -> o.kind() == DriftOutput.Kind.REUSE).map((k, o) -> KeyValue.pair(o.neuron(), o.reusedBest()),
                        Named.as("reused-best"))
                .to(Topics.NEURON_BEST_SCORES, Produced.with(keySerde, scoreSerde));

        NeuronRuns neuronRuns = new NeuronRuns(activationsKeySerde.serializer());
        arrivals.process(() -> new OrphanSweeper(orphanTimeout, metrics, neuronRuns, keySerializer),
                        Named.as("orphan-sweeper"), ACTIVATIONS_STORE, SIMULATIONS_STORE, WAITING_STORE)
                .to(Topics.deadLetter(Topics.NEURON_SIMULATIONS), Produced.with(keySerde, deadLetterSerde));

        // The tracker's carried simulations and explanations asked for go back to the task holding
        // their run's activations (placed by the neuron, as the activations are), which attaches the
        // windows: the tracker's store and topics never carry tokens.
        AvroSerializer<NeuronKey> neuronKeys = new AvroSerializer<>(registry, true);
        KStream<NeuronKey, DriftRequests.Attached> attached = driftOut.filter((k, o) -> o.isRequest(), Named.as("drift-requests"))
                .map((k, o) -> KeyValue.pair(o.neuron(), o.driftRequest()), Named.as("drift-requests-by-neuron"))
                .repartition(Repartitioned.with(keySerde, AvroSerde.of(registry, DriftRequest.class, false))
                        .withName("drift-requests").withStreamPartitioner((topic, neuron, request, partitions) ->
                                Optional.of(Set.of(NeuronPartitioner.ofNeuron(neuron, neuronKeys, partitions)))))
                .processValues(() -> new DriftRequests(ACTIVATIONS_STORE, ActivationsProjection.scoringTokens(registry)),
                        Named.as("drift-request-windows"), ACTIVATIONS_STORE);
        attached.filter((k, a) -> a.isCarry(), Named.as("carried-requests")).mapValues(DriftRequests.Attached::carry)
                .to(Topics.SIMULATION_REQUESTS, Produced.with(keySerde, AvroSerde.of(registry, SimulationRequest.class, false)));
        // With reuse: the neurons that changed go to the explainers; the others keep the carried explanation as their best.
        attached.filter((k, a) -> !a.isCarry(), Named.as("explain-requests"))
                .map((k, a) -> KeyValue.pair(a.explainKey(), a.activations()))
                .to(Topics.EXPLANATION_REQUESTS, Produced.with(activationsKeySerde, Serdes.ByteArray()));
        return builder.build(props);
    }

    private static LayerAggregate empty(NeuronScore s) {
        return new LayerAggregate(s.getNeuron().getModel(), s.getNeuron().getCheckpoint(), s.getNeuron().getLayer());
    }
}
