package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins simulations with their neuron's true activations whichever arrives first, once per score
 * identity. Every simulation is kept (keyed by neuron, explanation id, simulator method and, for a
 * detection or fuzzing judge's, scorer kind: {@link StoreKeys#simulation}); a
 * simulation arriving after the activations is scored at once, and activations arriving score
 * every simulation of the neuron waiting for them. A simulation is scored only against
 * activations of its own run (the store is keyed by neuron and run; one whose run has not arrived
 * waits for it), and only if no score of
 * that identity exists yet: a simulation or activations delivered again make no second score.
 * The activations store is the KTable of {@code neuron-activations}, already updated when its
 * record reaches this processor; the scores store is written by {@link BestExplanation} before
 * the next record reaches this one. A simulation not scored at once is also noted in the waiting
 * store with the wall-clock time it began to wait, for {@link OrphanSweeper}; it leaves that store
 * when it is scored, refused, or found scored already.
 */
final class ScoreJoiner implements FixedKeyProcessor<NeuronKey, Arrival, JoinOutcome> {
    private static final Logger log = LoggerFactory.getLogger(ScoreJoiner.class);

    private final ScorerMetrics metrics;
    private final Deserializer<NeuronActivations> activationsReader;
    private FixedKeyProcessorContext<NeuronKey, JoinOutcome> context;
    private TimestampedKeyValueStore<ActivationsKey, byte[]> activations;
    private TimestampedKeyValueStore<String, Decoded<Simulation>> simulations;
    private KeyValueStore<String, NeuronScore> scores;
    private KeyValueStore<String, Long> waiting;

    ScoreJoiner(ScorerMetrics metrics, Deserializer<NeuronActivations> activationsReader) {
        this.metrics = metrics;
        this.activationsReader = activationsReader;
    }

    @Override
    public void init(FixedKeyProcessorContext<NeuronKey, JoinOutcome> context) {
        this.context = context;
        this.activations = context.getStateStore(ScorerTopology.ACTIVATIONS_STORE);
        this.simulations = context.getStateStore(ScorerTopology.SIMULATIONS_STORE);
        this.scores = context.getStateStore(ScorerTopology.SCORES_STORE);
        this.waiting = context.getStateStore(ScorerTopology.WAITING_STORE);
    }

    @Override
    public void process(FixedKeyRecord<NeuronKey, Arrival> record) {
        Arrival arrival = record.value();
        if (arrival.simulation() != null) {
            onSimulation(record, arrival.simulation());
        } else if (arrival.activations() != null) {
            onActivations(record, arrival.activations());
        }
    }

    private void onSimulation(FixedKeyRecord<NeuronKey, Arrival> record, Decoded<Simulation> received) {
        Simulation simulation = received.value();
        String key = StoreKeys.simulation(record.key(), simulation);
        ValueAndTimestamp<byte[]> truth = activations.get(new ActivationsKey(record.key(), simulation.getRunId()));
        simulations.put(key, ValueAndTimestamp.make(received, record.timestamp()));
        if (truth == null) {
            startWaiting(key, record.key(), simulation);
            return;
        }
        NeuronActivations decoded = activationsReader.deserialize(Topics.NEURON_ACTIVATIONS, truth.value());
        if (!toScore(decoded, simulation)) {
            return;
        }
        stopWaiting(key);
        var meta = context.recordMetadata().orElse(null);
        JoinOutcome outcome = join(decoded, received, meta == null ? -1 : meta.partition(), meta == null ? -1 : meta.offset());
        if (outcome.isScore()) {
            metrics.joinWait(record.timestamp() - truth.timestamp());
        } else {
            simulations.delete(key);
        }
        context.forward(record.withValue(outcome));
    }

    private void onActivations(FixedKeyRecord<NeuronKey, Arrival> record, byte[] encoded) {
        String prefix = StoreKeys.neuron(record.key());
        List<KeyValue<String, ValueAndTimestamp<Decoded<Simulation>>>> held = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<Decoded<Simulation>>> it = simulations.range(prefix, prefix + '\uffff')) {
            it.forEachRemaining(held::add);
        }
        if (held.isEmpty()) {
            return;
        }
        NeuronActivations truth = activationsReader.deserialize(Topics.NEURON_ACTIVATIONS, encoded);
        for (KeyValue<String, ValueAndTimestamp<Decoded<Simulation>>> entry : held) {
            Simulation simulation = entry.value.value().value();
            if (ExplanationScorer.sameRun(truth, simulation)) {
                stopWaiting(entry.key); // its run's activations are here: scored now, or already
            }
            if (!toScore(truth, simulation)) {
                continue;
            }
            JoinOutcome outcome = join(truth, entry.value.value(), -1, -1);
            if (outcome.isScore()) {
                metrics.joinWait(Math.max(0, record.timestamp() - entry.value.timestamp()));
            } else {
                simulations.delete(entry.key);
            }
            context.forward(record.withValue(outcome));
        }
    }

    /**
     * Notes when a simulation began to wait; a copy delivered later keeps the first one's time. A
     * copy of one already scored against its own run (whose activations were since replaced) does
     * not wait: it would only become a false orphan.
     */
    private void startWaiting(String key, NeuronKey neuron, Simulation simulation) {
        if (waiting.get(key) != null) {
            return;
        }
        if (!simulation.getRunId().isEmpty()
                && scores.get(StoreKeys.score(neuron, ExplanationScorer.scoreId(neuron, simulation.getRunId(), simulation))) != null) {
            return;
        }
        waiting.put(key, context.currentSystemTimeMs());
    }

    /** Forgets a waiting simulation; one that never waited writes nothing (a delete would log a tombstone). */
    private void stopWaiting(String key) {
        if (waiting.get(key) != null) {
            waiting.delete(key);
        }
    }

    /** Whether the simulation is of the activations' run and has no score yet. */
    private boolean toScore(NeuronActivations truth, Simulation simulation) {
        if (!ExplanationScorer.sameRun(truth, simulation)) {
            log.debug("simulation {} of run {} waits: the activations of {} are of run {}", simulation.getExplanationId(),
                    simulation.getRunId(), truth.getNeuron(), ExplanationScorer.runId(truth));
            return false;
        }
        if (scores.get(StoreKeys.score(truth.getNeuron(), ExplanationScorer.scoreId(truth, simulation))) != null) {
            metrics.duplicateSkipped();
            return false;
        }
        return true;
    }

    private JoinOutcome join(NeuronActivations truth, Decoded<Simulation> simulation, int partition, long offset) {
        try {
            NeuronScore score = ExplanationScorer.score(truth, simulation.value(), Instant.ofEpochMilli(context.currentSystemTimeMs()));
            metrics.scored(score);
            return JoinOutcome.scored(score);
        } catch (InvalidSimulationException e) {
            return JoinOutcome.refused(simulation, e.getMessage(), partition, offset);
        }
    }
}
