package io.neuronexplainer.scorer.drift;

import io.neuronexplainer.schemas.DriftKey;
import io.neuronexplainer.schemas.DriftPoint;
import io.neuronexplainer.schemas.NeuronDrift;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalDouble;

/** The drift record of a neuron between two consecutive checkpoints of a series, from their points. */
public final class PairDrift {
    private PairDrift() {}

    public static DriftKey key(DriftPoint from, DriftPoint to) {
        return new DriftKey(from.getNeuron().getModel(), from.getSeriesId(), from.getNeuron().getLayer(),
                from.getNeuron().getNeuron(), from.getNeuron().getCheckpoint(), to.getNeuron().getCheckpoint());
    }

    public static NeuronDrift of(DriftPoint from, DriftPoint to, Instant at) {
        Map<Long, Double> a = DriftPoints.maxima(from);
        Map<Long, Double> b = DriftPoints.maxima(to);
        OptionalDouble drift = DriftFormulas.activationDrift(a, b);
        var shared = new HashSet<>(a.keySet());
        shared.retainAll(b.keySet());
        Double delta = from.getBestCorrelation() != null && to.getBestCorrelation() != null
                ? to.getBestCorrelation() - from.getBestCorrelation() : null;
        return NeuronDrift.newBuilder()
                .setKey(key(from, to))
                .setFromStep(from.getStep()).setToStep(to.getStep())
                .setActivationDrift(drift.orElse(0)).setActivationDriftUndefined(drift.isEmpty())
                .setRandomWindows(shared.size())
                .setTopWindowOverlap(DriftFormulas.topWindowOverlap(new HashSet<>(from.getTopWindows()),
                        new HashSet<>(to.getTopWindows())))
                .setFromBest(from.getBestCorrelation()).setToBest(to.getBestCorrelation()).setScoreDelta(delta)
                .setCarriedCorrelation(to.getCarried().get(from.getNeuron().getCheckpoint()))
                .setFromExplanation(from.getBestExplanationText()).setToExplanation(to.getBestExplanationText())
                .setExplanationReused(to.getBestReused()).setToPromptTokens(to.getBestPromptTokens())
                .setCarriedPromptTokens(to.getCarriedPromptTokens().get(from.getNeuron().getCheckpoint()))
                .setComputedAt(at)
                .build();
    }
}
