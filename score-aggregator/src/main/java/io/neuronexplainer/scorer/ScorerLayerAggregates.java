package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-layer figures of every scorer kind ({@link ScorerLayerAggregate}), from a set of scores. Each
 * neuron counts once per kind, with the score of its best explanation ({@link BestExplanation}) when
 * that explanation has a score of the kind, else with its highest score of the kind: the figures
 * then describe the explanations the neuron is shown with, and a neuron whose best explanation was
 * not judged (a judge failed on it) still counts. Scores of explanations carried from another
 * checkpoint are left out, as for the best: they measure drift. Among several scores of one
 * explanation and kind (other simulator methods, runs) the highest counts.
 */
public final class ScorerLayerAggregates {
    /** The figure each kind is aggregated by. */
    static final Map<String, String> FIGURES = Map.of(Identities.SIMULATION_SCORER, "correlation",
            Identities.DETECTION_SCORER, "balanced_accuracy", Identities.FUZZING_SCORER, "balanced_accuracy");

    /** A score as counted: its figure and what its simulator or judge calls took. */
    private record Figure(double value, int promptTokens) {}

    /** One neuron's scores as far as counted: the best simulation score, and per kind, per explanation, the highest figure. */
    private static final class Neuron {
        NeuronScore best;
        final Map<String, Map<String, Figure>> byKind = new HashMap<>();
    }

    private final Map<NeuronKey, Neuron> neurons = new HashMap<>();

    public static List<ScorerLayerAggregate> of(Iterable<NeuronScore> scores) {
        ScorerLayerAggregates out = new ScorerLayerAggregates();
        scores.forEach(out::add);
        return out.result();
    }

    /** Adds a score; scores arrive in any order. */
    public void add(NeuronScore s) {
        String figureName = FIGURES.get(s.getScorerKind());
        if (s.getCarriedFrom() != null || figureName == null) {
            return;
        }
        Double value = figureName.equals("correlation") ? Double.valueOf(s.getCorrelation()) : s.getBalancedAccuracy();
        if (value == null) {
            return; // nothing was judged (undefined): left out rather than counted as 0
        }
        Neuron n = neurons.computeIfAbsent(s.getNeuron(), k -> new Neuron());
        if (BestExplanation.competes(s) && (n.best == null || BestExplanation.better(s, n.best))) {
            n.best = s;
        }
        n.byKind.computeIfAbsent(s.getScorerKind(), k -> new HashMap<>()).merge(s.getExplanationId(),
                new Figure(value, s.getSimulationPromptTokens()), (a, b) -> b.value() > a.value() ? b : a);
    }

    /** The aggregates, by model, checkpoint, layer and kind (in {@link Identities#SCORER_KINDS} order). */
    public List<ScorerLayerAggregate> result() {
        Map<Group, List<Figure>> groups = new HashMap<>();
        for (Map.Entry<NeuronKey, Neuron> e : neurons.entrySet()) {
            NeuronKey k = e.getKey();
            Neuron n = e.getValue();
            for (Map.Entry<String, Map<String, Figure>> kind : n.byKind.entrySet()) {
                Figure counted = n.best == null ? null : kind.getValue().get(n.best.getExplanationId());
                if (counted == null) {
                    counted = kind.getValue().values().stream().max(Comparator.comparingDouble(Figure::value)).orElseThrow();
                }
                groups.computeIfAbsent(new Group(k.getModel(), k.getCheckpoint(), k.getLayer(), kind.getKey()),
                        g -> new ArrayList<>()).add(counted);
            }
        }
        List<ScorerLayerAggregate> out = new ArrayList<>();
        groups.forEach((g, figures) -> out.add(ScorerLayerAggregate.of(g.model(), g.checkpoint(), g.layer(), g.kind(),
                FIGURES.get(g.kind()), figures.stream().mapToDouble(Figure::value).toArray(),
                figures.stream().mapToLong(Figure::promptTokens).toArray())));
        out.sort(Comparator.comparing(ScorerLayerAggregate::model).thenComparing(ScorerLayerAggregate::checkpoint)
                .thenComparingInt(ScorerLayerAggregate::layer)
                .thenComparingInt(a -> Identities.SCORER_KINDS.indexOf(a.scorerKind())));
        return out;
    }

    private record Group(String model, String checkpoint, int layer, String kind) {}
}
