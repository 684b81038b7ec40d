package io.neuronexplainer.scorer.drift;

import io.neuronexplainer.schemas.DriftPoint;
import io.neuronexplainer.schemas.SimulationRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Follows each neuron across the checkpoints of its series, whichever record arrives first: a
 * run's activations place the checkpoint in step order and (re)compute the drift of the pairs
 * around it, retracting a pair a late checkpoint now sits inside; a new best score updates the
 * score deltas around it; a carried score fills its pair's carried correlation. When a pair's
 * later checkpoint has activations and its earlier one a best explanation, it asks for that
 * explanation to be simulated on the later windows (an idempotent request: the simulator and the
 * scorer make one simulation and one score of its identity however often it is asked).
 *
 * <p>Input is keyed by the neuron across checkpoints ({@link DriftPoints#neuronKey}); the store
 * holds one merged point per run under that key and the run id.
 */
public final class DriftTracker implements Processor<String, DriftPoint, String, DriftOutput> {
    public static final String STORE = "drift-points";

    private ProcessorContext<String, DriftOutput> context;
    private KeyValueStore<String, DriftPoint> points;

    @Override
    public void init(ProcessorContext<String, DriftOutput> context) {
        this.context = context;
        this.points = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<String, DriftPoint> record) {
        DriftPoint arrived = record.value();
        String storeKey = record.key() + '\u0000' + arrived.getRunId();
        DriftPoint held = points.get(storeKey);
        DriftPoint point = DriftPoints.merge(held, arrived);
        points.put(storeKey, point);
        if (!point.getHasActivations()) {
            return; // placed once its activations arrive
        }
        Map<String, DriftPoint> series = new HashMap<>();
        List<SeriesTimeline.Point> known = new ArrayList<>();
        try (KeyValueIterator<String, DriftPoint> it = points.prefixScan(record.key() + '\u0000', new StringSerializer())) {
            while (it.hasNext()) {
                DriftPoint p = it.next().value;
                if (p.getHasActivations() && p.getSeriesId().equals(point.getSeriesId()) && !p.getRunId().equals(point.getRunId())) {
                    series.put(p.getNeuron().getCheckpoint(), p);
                    known.add(DriftPoints.place(p));
                }
            }
        }
        if (held != null && held.getHasActivations()) {
            known.add(DriftPoints.place(held)); // placed before: its pairs are recomputed, none retracted
        }
        series.put(point.getNeuron().getCheckpoint(), point);
        SeriesTimeline.Change change = SeriesTimeline.place(known, DriftPoints.place(point));
        long now = context.currentSystemTimeMs();
        for (SeriesTimeline.Pair gone : change.retracted()) {
            DriftPoint from = series.get(gone.from().checkpoint());
            DriftPoint to = series.get(gone.to().checkpoint());
            context.forward(record.withValue(DriftOutput.drift(PairDrift.key(from, to), null)).withTimestamp(now));
        }
        for (SeriesTimeline.Pair pair : change.computed()) {
            DriftPoint from = series.get(pair.from().checkpoint());
            DriftPoint to = series.get(pair.to().checkpoint());
            context.forward(record.withValue(DriftOutput.drift(PairDrift.key(from, to),
                    PairDrift.of(from, to, Instant.ofEpochMilli(now)))).withTimestamp(now));
            boolean newWindows = arrived.getHasActivations() && to == point;
            boolean newExplanation = arrived.getBestExplanationId() != null && from == point;
            if (from.getBestExplanationId() != null && (newWindows || newExplanation)) {
                context.forward(record.withValue(DriftOutput.carry(carriedRequest(from, to))).withTimestamp(now));
            }
        }
    }

    /** The earlier checkpoint's best explanation on the later checkpoint's scoring windows. */
    static SimulationRequest carriedRequest(DriftPoint from, DriftPoint to) {
        return new SimulationRequest(to.getNeuron(), from.getBestExplanationId(), from.getBestExplanationText(),
                to.getScoringWindows(), to.getRunId(), from.getNeuron().getCheckpoint());
    }
}
