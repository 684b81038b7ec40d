package io.neuronexplainer.scorer;

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
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * Joins simulations with their neuron's true activations whichever arrives first. Every
 * simulation is kept (keyed by neuron + explanation id); a simulation arriving after the
 * activations is scored at once, and activations arriving score every simulation of the neuron
 * waiting for them. The activations store is the KTable of {@code neuron-activations}, already
 * updated when its record reaches this processor.
 */
final class ScoreJoiner implements FixedKeyProcessor<NeuronKey, Arrival, JoinOutcome> {
    private final ScorerMetrics metrics;
    private final Deserializer<NeuronActivations> activationsReader;
    private FixedKeyProcessorContext<NeuronKey, JoinOutcome> context;
    private TimestampedKeyValueStore<NeuronKey, byte[]> activations;
    private TimestampedKeyValueStore<String, Simulation> simulations;

    ScoreJoiner(ScorerMetrics metrics, Deserializer<NeuronActivations> activationsReader) {
        this.metrics = metrics;
        this.activationsReader = activationsReader;
    }

    @Override
    public void init(FixedKeyProcessorContext<NeuronKey, JoinOutcome> context) {
        this.context = context;
        this.activations = context.getStateStore(ScorerTopology.ACTIVATIONS_STORE);
        this.simulations = context.getStateStore(ScorerTopology.SIMULATIONS_STORE);
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

    private void onSimulation(FixedKeyRecord<NeuronKey, Arrival> record, Simulation simulation) {
        String key = StoreKeys.explanation(record.key(), simulation.getExplanationId());
        ValueAndTimestamp<byte[]> truth = activations.get(record.key());
        if (truth == null) {
            simulations.put(key, ValueAndTimestamp.make(simulation, record.timestamp()));
            return;
        }
        var meta = context.recordMetadata().orElse(null);
        JoinOutcome outcome = join(activationsReader.deserialize(Topics.NEURON_ACTIVATIONS, truth.value()), simulation, meta == null ? -1 : meta.partition(),
                meta == null ? -1 : meta.offset());
        if (outcome.isScore()) {
            simulations.put(key, ValueAndTimestamp.make(simulation, record.timestamp()));
            metrics.joinWait(record.timestamp() - truth.timestamp());
        } else {
            simulations.delete(key);
        }
        context.forward(record.withValue(outcome));
    }

    private void onActivations(FixedKeyRecord<NeuronKey, Arrival> record, byte[] encoded) {
        String prefix = StoreKeys.neuron(record.key());
        List<KeyValue<String, ValueAndTimestamp<Simulation>>> waiting = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<Simulation>> it = simulations.range(prefix, prefix + '\uffff')) {
            it.forEachRemaining(waiting::add);
        }
        if (waiting.isEmpty()) {
            return;
        }
        NeuronActivations truth = activationsReader.deserialize(Topics.NEURON_ACTIVATIONS, encoded);
        for (KeyValue<String, ValueAndTimestamp<Simulation>> entry : waiting) {
            JoinOutcome outcome = join(truth, entry.value.value(), -1, -1);
            if (outcome.isScore()) {
                // A simulation older than these activations waited for them; a re-sent
                // neuron re-scores its simulations too (then this overstates the wait).
                metrics.joinWait(Math.max(0, record.timestamp() - entry.value.timestamp()));
            } else {
                simulations.delete(entry.key);
            }
            context.forward(record.withValue(outcome));
        }
    }

    private JoinOutcome join(NeuronActivations truth, Simulation simulation, int partition, long offset) {
        try {
            NeuronScore score = ExplanationScorer.score(truth, simulation, Instant.ofEpochMilli(context.currentSystemTimeMs()));
            metrics.scored(score);
            return JoinOutcome.scored(score);
        } catch (InvalidSimulationException e) {
            return JoinOutcome.refused(simulation, e.getMessage(), partition, offset);
        }
    }
}
