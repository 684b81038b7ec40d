package io.neuronexplainer.scorer.drift;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.DriftPoint;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.SimulationRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
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
 * <p>With explanations reused ({@code reuseThreshold} set), a neuron's first activations of a run
 * whose previous checkpoint has a positive best score, or none yet, wait for the carried score
 * (asked for when that best comes): if it keeps at least the threshold's share of the old score,
 * the old explanation and its carried score become the neuron's best here and no explainer runs;
 * otherwise, as for a neuron with nothing to carry (no previous checkpoint, or one scored 0 or
 * less, then or when its best comes), its activations go to the explainers. None waits past the
 * pending timeout.
 *
 * <p>Input is keyed by the neuron across checkpoints ({@link DriftPoints#neuronKey}); the store
 * holds one merged point per run under that key and the run id.
 */
public final class DriftTracker implements Processor<String, DriftPoint, String, DriftOutput> {
    public static final String STORE = "drift-points";

    private final Double reuseThreshold;
    private final Duration pendingTimeout;
    private ProcessorContext<String, DriftOutput> context;
    private KeyValueStore<String, DriftPoint> points;

    /**
     * @param reuseThreshold with reuse, the share of its old score a carried explanation must keep; else null
     * @param pendingTimeout with reuse, how long a neuron waits for its carried score (a dead-lettered
     *                       carried simulation never brings one, nor a previous checkpoint never
     *                       scored) before it is explained after all
     */
    public DriftTracker(Double reuseThreshold, Duration pendingTimeout) {
        this.reuseThreshold = reuseThreshold;
        this.pendingTimeout = pendingTimeout;
    }

    @Override
    public void init(ProcessorContext<String, DriftOutput> context) {
        this.context = context;
        this.points = context.getStateStore(STORE);
        if (reuseThreshold != null) {
            Duration every = Duration.ofMillis(Math.max(100, Math.min(60_000, pendingTimeout.toMillis() / 10)));
            context.schedule(every, PunctuationType.WALL_CLOCK_TIME, this::explainOverdue);
        }
    }

    /** Neurons whose carried score has not come within the timeout are explained: none waits forever. */
    private void explainOverdue(long now) {
        List<KeyValue<String, DriftPoint>> overdue = new ArrayList<>();
        try (KeyValueIterator<String, DriftPoint> it = points.all()) {
            while (it.hasNext()) {
                KeyValue<String, DriftPoint> kv = it.next();
                if (kv.value.getExplainPending() && now - kv.value.getPendingSince() >= pendingTimeout.toMillis()) {
                    overdue.add(kv);
                }
            }
        }
        for (KeyValue<String, DriftPoint> kv : overdue) {
            explain(new Record<>(kv.key, kv.value, now), kv.value);
            points.put(kv.key, DriftPoint.newBuilder(kv.value).setExplainPending(false).build());
        }
    }

    @Override
    public void process(Record<String, DriftPoint> record) {
        DriftPoint arrived = record.value();
        String storeKey = record.key() + '\u0000' + arrived.getRunId();
        DriftPoint held = points.get(storeKey);
        DriftPoint point = DriftPoints.merge(held, arrived);
        if (!point.getHasActivations()) {
            points.put(storeKey, point);
            return; // placed once its activations arrive
        }
        boolean firstActivations = arrived.getHasActivations() && (held == null || !held.getHasActivations());
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
        if (!firstActivations) {
            known.add(DriftPoints.place(point)); // placed before: its pairs are recomputed, none retracted
        }
        series.put(point.getNeuron().getCheckpoint(), point);
        SeriesTimeline.Change change = SeriesTimeline.place(known, DriftPoints.place(point));
        DriftPoint previous = change.computed().stream().filter(p -> p.to().checkpoint().equals(point.getNeuron().getCheckpoint()))
                .map(p -> series.get(p.from().checkpoint())).findFirst().orElse(null);

        DriftPoint decided = point;
        if (reuseThreshold != null && firstActivations) {
            decided = firstDecision(record, point, previous);
        } else if (reuseThreshold != null && point.getExplainPending() && !arrived.getCarried().isEmpty()) {
            decided = carriedDecision(record, point, previous);
        }
        points.put(storeKey, decided);
        series.put(decided.getNeuron().getCheckpoint(), decided);
        // A carried request is asked once per pair: when the later checkpoint's windows first arrive,
        // or when the earlier checkpoint's best explanation changes (not on every copy of either).
        boolean bestChanged = !java.util.Objects.equals(decided.getBestExplanationId(),
                held == null ? null : held.getBestExplanationId());
        // Also on first activations: a late checkpoint's best can come before its windows.
        if (reuseThreshold != null && (bestChanged || firstActivations) && notWorthCarrying(decided)) {
            explainWaitingNext(record, change, series, decided);
        }
        emit(record, change, series, decided, firstActivations, bestChanged);
    }

    /** The best is in and not worth carrying (0 or less, or undefined): the next checkpoint is explained at once. */
    private static boolean notWorthCarrying(DriftPoint p) {
        return p.getBestExplanationId() != null && p.getBestCorrelation() != null && !(p.getBestCorrelation() > 0);
    }

    private static boolean unscored(DriftPoint p) {
        return p.getBestExplanationId() == null || p.getBestCorrelation() == null;
    }

    /** A neuron waiting for {@code scored}'s best, which came and is not worth carrying, goes to the explainers now. */
    private void explainWaitingNext(Record<String, DriftPoint> record, SeriesTimeline.Change change,
                                    Map<String, DriftPoint> series, DriftPoint scored) {
        for (SeriesTimeline.Pair pair : change.computed()) {
            DriftPoint next = series.get(pair.to().checkpoint());
            if (series.get(pair.from().checkpoint()) == scored && next != scored && next.getExplainPending()) {
                explain(record, next);
                DriftPoint released = DriftPoint.newBuilder(next).setExplainPending(false).build();
                points.put(record.key() + '\u0000' + next.getRunId(), released);
                series.put(next.getNeuron().getCheckpoint(), released);
            }
        }
    }

    /**
     * A run's first activations: wait for the carried score if there is something to carry, or may be
     * soon (the previous checkpoint not scored yet: a backlog of checkpoints, the usual case when
     * the explainers are the bottleneck; its best score brings the carried request); else explain.
     */
    private DriftPoint firstDecision(Record<String, DriftPoint> record, DriftPoint point, DriftPoint previous) {
        if (previous != null && !notWorthCarrying(previous)) {
            return DriftPoint.newBuilder(point).setExplainPending(true).setPendingSince(context.currentSystemTimeMs()).build();
        }
        explain(record, point);
        return point;
    }

    /** The carried score is in: keep the old explanation if it holds, else explain the neuron after all. */
    private DriftPoint carriedDecision(Record<String, DriftPoint> record, DriftPoint point, DriftPoint previous) {
        DriftPoint.Builder out = DriftPoint.newBuilder(point).setExplainPending(false);
        if (previous == null || notWorthCarrying(previous)) {
            explain(record, point); // a late checkpoint now precedes it and has nothing to carry
            return out.build();
        }
        NeuronScore carriedScore = point.getCarriedScore();
        // Keep waiting for the carried score awaited, not another checkpoint's or an earlier best's. A late
        // checkpoint now before it and not scored yet has none: its best will ask for it.
        if (unscored(previous) || carriedScore == null || !previous.getNeuron().getCheckpoint().equals(carriedScore.getCarriedFrom())
                || !previous.getBestExplanationId().equals(carriedScore.getExplanationId())) {
            return point;
        }
        double carried = carriedScore.getCorrelation();
        if (carried >= reuseThreshold * previous.getBestCorrelation()) {
            NeuronScore reused = point.getCarriedScore();
            context.forward(record.withValue(DriftOutput.reuse(reused)).withTimestamp(context.currentSystemTimeMs()));
            out.setBestExplanationId(reused.getExplanationId()).setBestExplanationText(reused.getExplanationText())
                    .setBestCorrelation(reused.getCorrelation()).setBestReused(true)
                    .setBestPromptTokens(reused.getExplainerPromptTokens() + reused.getSimulationPromptTokens())
                    .setBestExplainerPromptTokens(reused.getExplainerPromptTokens())
                    .setBestExplainerMethod(reused.getExplainerMethod());
        } else {
            explain(record, point);
        }
        return out.build();
    }

    /** Asks for the run's activations to go to the explainers ({@link DriftRequests} attaches the record). */
    private void explain(Record<String, DriftPoint> record, DriftPoint point) {
        context.forward(record.withValue(DriftOutput.explain(new ActivationsKey(point.getNeuron(), point.getRunId())))
                .withTimestamp(context.currentSystemTimeMs()));
    }

    private void emit(Record<String, DriftPoint> record, SeriesTimeline.Change change, Map<String, DriftPoint> series,
                      DriftPoint point, boolean firstActivations, boolean bestChanged) {
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
            boolean newWindows = firstActivations && to == point;
            // The point just placed may already have a best (its score came first): the pair after it needs it carried too.
            boolean newExplanation = (bestChanged || firstActivations) && from == point;
            if (from.getBestExplanationId() != null && (newWindows || newExplanation)) {
                context.forward(record.withValue(DriftOutput.carry(carriedRequest(from, to))).withTimestamp(now));
            }
        }
    }

    /**
     * The earlier checkpoint's best explanation to simulate on the later checkpoint's scoring windows,
     * which {@link DriftRequests} attaches from the activations store.
     */
    static SimulationRequest carriedRequest(DriftPoint from, DriftPoint to) {
        return new SimulationRequest(to.getNeuron(), from.getBestExplanationId(), from.getBestExplanationText(),
                List.of(), to.getRunId(), from.getNeuron().getCheckpoint(), from.getBestExplainerPromptTokens(),
                from.getBestExplainerMethod(), Identities.SIMULATION_SCORER, List.of());
    }
}
