package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dead-letters the simulations that waited longer than the orphan timeout for their run's
 * activations: each goes to {@code neuron-simulations-dlq} with the reason and leaves the
 * simulations and waiting stores, in the task's exactly-once transaction like every other
 * output. Also counts the task's waiting simulations for the {@code neuron_simulations_waiting} gauge.
 *
 * <p>The sweep is a WALL_CLOCK_TIME punctuator and the wait is measured from the wall-clock time
 * the scorer first held the simulation: stream time advances only when records arrive, and an
 * orphan is typical of a pipeline gone quiet (a producer that died before writing the
 * activations), where stream time would stand still and the orphan would never be seen. Measuring
 * from when the scorer held it, not from the record's timestamp, keeps a scorer rebuilt from an
 * old backlog from dead-lettering simulations whose activations are merely further on in it.
 * The input records themselves are {@link ScoreJoiner}'s; this processor only sweeps.
 */
final class OrphanSweeper implements Processor<NeuronKey, Arrival, NeuronKey, DeadLetter> {
    private static final Logger log = LoggerFactory.getLogger(OrphanSweeper.class);

    private final Duration timeout;
    private final ScorerMetrics metrics;
    private final NeuronRuns neuronRuns;
    private final Serializer<NeuronKey> keySerializer;
    private ProcessorContext<NeuronKey, DeadLetter> context;
    private TimestampedKeyValueStore<ActivationsKey, byte[]> activations;
    private TimestampedKeyValueStore<String, Decoded<Simulation>> simulations;
    private KeyValueStore<String, Long> waiting;
    private String task;

    OrphanSweeper(Duration timeout, ScorerMetrics metrics, NeuronRuns neuronRuns,
                  Serializer<NeuronKey> keySerializer) {
        this.timeout = timeout;
        this.metrics = metrics;
        this.neuronRuns = neuronRuns;
        this.keySerializer = keySerializer;
    }

    /** How often to sweep: a tenth of the timeout, between 100 ms and 5 s (the gauge's refresh too). */
    static Duration interval(Duration timeout) {
        long ms = Math.max(100, Math.min(5000, timeout.toMillis() / 10));
        return Duration.ofMillis(ms);
    }

    @Override
    public void init(ProcessorContext<NeuronKey, DeadLetter> context) {
        this.context = context;
        this.activations = context.getStateStore(ScorerTopology.ACTIVATIONS_STORE);
        this.simulations = context.getStateStore(ScorerTopology.SIMULATIONS_STORE);
        this.waiting = context.getStateStore(ScorerTopology.WAITING_STORE);
        this.task = context.taskId().toString();
        context.schedule(interval(timeout), PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }

    @Override
    public void process(Record<NeuronKey, Arrival> record) {
        // ScoreJoiner joins the arrivals and notes which simulations wait.
    }

    private void sweep(long now) {
        List<KeyValue<String, Long>> expired = new ArrayList<>();
        long held = 0;
        try (KeyValueIterator<String, Long> it = waiting.all()) {
            while (it.hasNext()) {
                KeyValue<String, Long> entry = it.next();
                held++;
                if (now - entry.value >= timeout.toMillis()) {
                    expired.add(entry);
                }
            }
        }
        for (KeyValue<String, Long> entry : expired) {
            waiting.delete(entry.key);
            ValueAndTimestamp<Decoded<Simulation>> stored = simulations.delete(entry.key);
            if (stored != null) {
                deadLetter(stored.value(), now);
            }
        }
        metrics.waiting(task, held - expired.size());
    }

    private void deadLetter(Decoded<Simulation> received, long now) {
        Simulation simulation = received.value();
        NeuronKey key = simulation.getNeuron();
        String held = neuronRuns.of(activations, key).stream().map(kv -> kv.key.getRunId())
                .reduce((a, b) -> a + ", " + b).orElse(null);
        OrphanedSimulationException why = new OrphanedSimulationException(simulation.getRunId(), timeout, held);
        log.warn("simulation {} of {} dead-lettered: {}", simulation.getExplanationId(), key, why.getMessage());
        metrics.orphaned();
        DeadLetter letter = new DeadLetter("score-aggregator", Topics.NEURON_SIMULATIONS, -1, -1L,
                ByteBuffer.wrap(keySerializer.serialize(Topics.NEURON_SIMULATIONS, key)),
                ByteBuffer.wrap(received.bytes()), // as the simulation came (its topic's wire format)
                why.getClass().getName(), why.getMessage(), 1, Instant.ofEpochMilli(now));
        context.forward(new Record<>(key, letter, now));
    }

    @Override
    public void close() {
        if (task != null) {
            metrics.waiting(task, -1); // the task left this instance: its count is another's now
        }
    }
}
