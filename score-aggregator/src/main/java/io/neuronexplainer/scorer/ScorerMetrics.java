package io.neuronexplainer.scorer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.neuronexplainer.scorer.drift.LayerDrift;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.neuronexplainer.schemas.NeuronScore;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The scorer's own meters. {@code neuron_scores_total} (rate() of it is scores per second);
 * {@code neuron_join_wait_seconds}, the record-time gap between a neuron's activations and a
 * simulation; {@code neuron_scores_duplicates_skipped_total}, joins whose score already existed;
 * {@code neuron_simulations_waiting}, simulations held for activations not arrived yet (summed over
 * this instance's tasks, refreshed at each orphan sweep); {@code neuron_simulations_orphaned_total},
 * simulations dead-lettered after waiting longer than the orphan timeout; and per (model, checkpoint, layer) gauges of the best-score distribution, read
 * from the layer aggregates so they never count a re-scored neuron twice.
 */
public final class ScorerMetrics {
    private final MeterRegistry registry;
    private final Counter scores;
    private final Counter duplicates;
    private final Timer joinWait;
    private final Counter orphaned;
    private final Map<String, Long> waitingByTask = new ConcurrentHashMap<>();
    private final Map<String, LayerAggregate> layers = new ConcurrentHashMap<>();
    private final Map<String, LayerDrift> drift = new ConcurrentHashMap<>();

    public ScorerMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.scores = Counter.builder("neuron.scores").description("Explanations scored").register(registry);
        this.duplicates = Counter.builder("neuron.scores.duplicates.skipped")
                .description("Joins not scored because a score of their identity was already made").register(registry);
        this.joinWait = Timer.builder("neuron.join.wait")
                .description("Time between a neuron's activations and a simulation of it (record timestamps)")
                .publishPercentileHistogram()
                .maximumExpectedValue(Duration.ofHours(1))
                .register(registry);
        this.orphaned = Counter.builder("neuron.simulations.orphaned")
                .description("Simulations dead-lettered because their activations did not arrive within the orphan timeout")
                .register(registry);
        Gauge.builder("neuron.simulations.waiting", waitingByTask, ScorerMetrics::sum)
                .description("Simulations waiting for their neuron's activations").register(registry);
    }

    private static double sum(Map<String, Long> counts) {
        return counts.values().stream().mapToLong(Long::longValue).sum();
    }

    /** A task's count of waiting simulations, as its last sweep found it; -1 when the task left this instance. */
    void waiting(String task, long count) {
        if (count < 0) {
            waitingByTask.remove(task);
        } else {
            waitingByTask.put(task, count);
        }
    }

    public long simulationsWaiting() {
        return (long) sum(waitingByTask);
    }

    void orphaned() {
        orphaned.increment();
    }

    public double orphanedTotal() {
        return orphaned.count();
    }

    void scored(NeuronScore score) {
        scores.increment();
    }

    void duplicateSkipped() {
        duplicates.increment();
    }

    public double duplicatesSkipped() {
        return duplicates.count();
    }

    void joinWait(long millis) {
        joinWait.record(Duration.ofMillis(Math.max(0, millis)));
    }

    public double scoresTotal() {
        return scores.count();
    }

    /** Refreshes the per-layer drift gauges (one set per layer and checkpoint pair), registering new ones. */
    public void updateDrift(Iterable<LayerDrift> aggregates) {
        for (LayerDrift d : aggregates) {
            String key = String.join("\0", d.model(), d.seriesId(), Integer.toString(d.layer()), d.from(), d.to());
            if (drift.put(key, d) == null) {
                Tags tags = Tags.of("model", d.model(), "layer", Integer.toString(d.layer()), "from", d.from(), "to", d.to());
                Gauge.builder("neuron.layer.drift.mean", drift, m -> m.get(key).meanActivationDrift()).tags(tags)
                        .description("Mean activation drift of the layer's neurons between the two checkpoints").register(registry);
                Gauge.builder("neuron.layer.drift.carried.hold", drift, m -> m.get(key).holdRate()).tags(tags)
                        .description("Share of carried explanations scoring within 0.1 of their old score").register(registry);
                Gauge.builder("neuron.layer.drift.became.explainable", drift, m -> m.get(key).becameExplainable().size())
                        .tags(tags).description("Neurons whose best score reached 0.5 at the later checkpoint").register(registry);
                Gauge.builder("neuron.layer.drift.stopped.explainable", drift, m -> m.get(key).stoppedExplainable().size())
                        .tags(tags).description("Neurons whose best score fell below 0.5 at the later checkpoint").register(registry);
                Gauge.builder("neuron.layer.reuse.prompt.tokens", drift, m -> m.get(key).promptTokensWithReuse())
                        .tags(tags.and("reuse", "on")).description("LLM prompt tokens of the later checkpoint's explanations and "
                                + "simulations with reuse (carried simulations included); reuse=off: every neuron explained anew")
                        .register(registry);
                Gauge.builder("neuron.layer.reuse.prompt.tokens", drift, m -> m.get(key).promptTokensWithoutReuse())
                        .tags(tags.and("reuse", "off")).description("LLM prompt tokens of the later checkpoint's explanations and "
                                + "simulations with reuse (carried simulations included); reuse=off: every neuron explained anew")
                        .register(registry);
            }
        }
    }

    /** Refreshes the per-layer gauges from the current aggregates, registering new layers. */
    public void updateLayers(Iterable<LayerAggregate> aggregates) {
        for (LayerAggregate a : aggregates) {
            String key = a.model() + '\0' + a.checkpoint() + '\0' + a.layer();
            if (layers.put(key, a) == null) {
                Tags tags = Tags.of("model", a.model(), "checkpoint", a.checkpoint(), "layer", Integer.toString(a.layer()));
                Gauge.builder("neuron.layer.neurons", layers, m -> m.get(key).count()).tags(tags)
                        .description("Neurons of the layer with a score").register(registry);
                Gauge.builder("neuron.layer.neurons.good", layers, m -> m.get(key).atLeastGood()).tags(tags)
                        .description("Neurons whose best explanation scores >= 0.8").register(registry);
                Gauge.builder("neuron.layer.score.mean", layers, m -> m.get(key).mean()).tags(tags)
                        .description("Mean best correlation of the layer").register(registry);
                for (double q : new double[] {0.1, 0.5, 0.9}) {
                    Gauge.builder("neuron.layer.score.quantile", layers, m -> m.get(key).quantile(q))
                            .tags(tags.and("quantile", Double.toString(q)))
                            .description("Quantile of the layer's best correlations").register(registry);
                }
            }
        }
    }
}
