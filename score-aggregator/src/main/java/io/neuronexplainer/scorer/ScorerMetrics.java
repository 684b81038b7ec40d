package io.neuronexplainer.scorer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.neuronexplainer.scorer.drift.LayerDrift;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronScore;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The scorer's own meters. {@code neuron_scores_total{scorer}} (rate() of it is scores per second;
 * {@code scorer} is the score's kind: simulation, detection or fuzzing);
 * {@code neuron_join_wait_seconds}, the record-time gap between a neuron's activations and a
 * simulation; {@code neuron_scores_duplicates_skipped_total}, joins whose score already existed;
 * {@code neuron_simulations_waiting}, simulations held for activations not arrived yet (summed over
 * this instance's tasks, refreshed at each orphan sweep); {@code neuron_simulations_orphaned_total},
 * simulations dead-lettered after waiting longer than the orphan timeout; per (model, checkpoint, layer) gauges of the best-score distribution, read
 * from the layer aggregates so they never count a re-scored neuron twice; and per (model, checkpoint,
 * layer, scorer) gauges of every scorer kind's figure ({@code neuron_layer_scorer_neurons},
 * {@code neuron_layer_scorer_mean}, {@code neuron_layer_scorer_quantile{quantile}},
 * {@code neuron_layer_scorer_prompt_tokens}: mean per neuron), from {@link ScorerLayerAggregates}.
 */
public final class ScorerMetrics {
    private final MeterRegistry registry;
    private final Map<String, Counter> scores = new ConcurrentHashMap<>();
    private final Counter duplicates;
    private final Timer joinWait;
    private final Counter orphaned;
    private final Map<String, Long> waitingByTask = new ConcurrentHashMap<>();
    private final Map<String, LayerAggregate> layers = new ConcurrentHashMap<>();
    private final Map<String, LayerDrift> drift = new ConcurrentHashMap<>();
    private final Map<String, ScorerLayerAggregate> scorerLayers = new ConcurrentHashMap<>();

    public ScorerMetrics(MeterRegistry registry) {
        this.registry = registry;
        // Every kind from the start, so each series exists (at 0) before its first score.
        for (String kind : Identities.SCORER_KINDS) {
            scoresCounter(kind);
        }
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
        scoresCounter(score.getScorerKind()).increment();
    }

    private Counter scoresCounter(String kind) {
        return scores.computeIfAbsent(kind, k -> Counter.builder("neuron.scores").tag("scorer", k)
                .description("Explanations scored, by scorer kind").register(registry));
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

    /** Scores of every kind. */
    public double scoresTotal() {
        return scores.values().stream().mapToDouble(Counter::count).sum();
    }

    /** Scores of one kind. */
    public double scoresTotal(String kind) {
        Counter c = scores.get(kind);
        return c == null ? 0 : c.count();
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

    /** Refreshes the per-layer, per-scorer gauges from the current aggregates, registering new ones. */
    public void updateScorerLayers(Iterable<ScorerLayerAggregate> aggregates) {
        for (ScorerLayerAggregate a : aggregates) {
            String key = String.join("\0", a.model(), a.checkpoint(), Integer.toString(a.layer()), a.scorerKind());
            if (scorerLayers.put(key, a) == null) {
                Tags tags = Tags.of("model", a.model(), "checkpoint", a.checkpoint(), "layer", Integer.toString(a.layer()),
                        "scorer", a.scorerKind());
                Gauge.builder("neuron.layer.scorer.neurons", scorerLayers, m -> m.get(key).count()).tags(tags)
                        .description("Neurons of the layer with a score of this kind").register(registry);
                Gauge.builder("neuron.layer.scorer.mean", scorerLayers, m -> m.get(key).mean()).tags(tags)
                        .description("Mean figure of the layer's neurons by this scorer (correlation for simulation, "
                                + "balanced accuracy for detection and fuzzing)").register(registry);
                for (double q : new double[] {0.1, 0.5, 0.9}) {
                    Gauge.builder("neuron.layer.scorer.quantile", scorerLayers, m -> {
                                ScorerLayerAggregate x = m.get(key);
                                return q == 0.1 ? x.p10() : q == 0.5 ? x.p50() : x.p90();
                            }).tags(tags.and("quantile", Double.toString(q)))
                            .description("Quantile of the layer's figures by this scorer").register(registry);
                }
                Gauge.builder("neuron.layer.scorer.prompt.tokens", scorerLayers, m -> m.get(key).meanScorerPromptTokens())
                        .tags(tags).description("Mean LLM prompt tokens per neuron of the scores counted, by this scorer "
                                + "(the simulator's or the judge's calls)").register(registry);
            }
        }
    }
}
