package io.neuronexplainer.scorer.drift;

import io.neuronexplainer.schemas.DriftPoint;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.WindowMax;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The drift tracker's view of a neuron in one run, built from what arrives: its activations, its
 * best score, or a score of an earlier checkpoint's explanation carried to its windows. Each
 * arrival is a partial point that {@link #merge} folds into the one held.
 */
public final class DriftPoints {
    private DriftPoints() {}

    /** The tracker's key: the neuron across checkpoints (model, layer, index). */
    public static String neuronKey(NeuronKey neuron) {
        return neuron.getModel() + '\u0000' + neuron.getLayer() + '\u0000' + neuron.getNeuron();
    }

    /**
     * What a run's activations record brings: the run's place in its series, its top windows' indexes
     * and its random sample's maxima. Never its windows' tokens nor the record itself: the requests
     * that need them have them attached from the activations store ({@link DriftRequests}), so the
     * tracker's store and topics stay small.
     */
    public static DriftPoint of(NeuronActivations a) {
        List<Long> indexes = new ArrayList<>();
        List<Float> maxima = new ArrayList<>();
        for (WindowMax m : a.getRandomWindowMaxima()) {
            indexes.add(m.getWindowIndex());
            maxima.add(m.getMaxActivation());
        }
        List<Long> top = new ArrayList<>();
        a.getExplanationWindows().forEach(w -> top.add(w.getWindowIndex()));
        a.getScoringTopWindows().forEach(w -> top.add(w.getWindowIndex()));
        return DriftPoint.newBuilder().setNeuron(a.getNeuron()).setRunId(a.getRun().getRunId())
                .setSeriesId(a.getRun().getSeriesId()).setStep(a.getRun().getStep()).setHasActivations(true)
                .setRandomWindowIndexes(indexes).setRandomWindowMaxima(maxima).setTopWindows(top).build();
    }

    /** What a neuron's new best score (of its own run) brings. */
    public static DriftPoint best(NeuronScore s) {
        return DriftPoint.newBuilder().setNeuron(s.getNeuron()).setRunId(s.getRunId())
                .setBestExplanationId(s.getExplanationId()).setBestExplanationText(s.getExplanationText())
                .setBestCorrelation(s.getCorrelation()).setBestReused(s.getCarriedFrom() != null)
                .setBestPromptTokens(s.getExplainerPromptTokens() + s.getSimulationPromptTokens())
                .setBestExplainerPromptTokens(s.getExplainerPromptTokens()).setBestExplainerMethod(s.getExplainerMethod()).build();
    }

    /** What a score of an earlier checkpoint's explanation on this run's windows brings. */
    public static DriftPoint carried(NeuronScore s) {
        return DriftPoint.newBuilder().setNeuron(s.getNeuron()).setRunId(s.getRunId())
                .setCarried(Map.of(s.getCarriedFrom(), s.getCorrelation()))
                .setCarriedPromptTokens(Map.of(s.getCarriedFrom(), s.getSimulationPromptTokens())).setCarriedScore(s).build();
    }

    /** {@code held} updated with what {@code arrived} brings (either may be null). */
    public static DriftPoint merge(DriftPoint held, DriftPoint arrived) {
        if (held == null) {
            return arrived;
        }
        DriftPoint.Builder out = DriftPoint.newBuilder(held);
        if (arrived.getHasActivations()) {
            out.setNeuron(arrived.getNeuron()).setSeriesId(arrived.getSeriesId()).setStep(arrived.getStep())
                    .setHasActivations(true).setRandomWindowIndexes(arrived.getRandomWindowIndexes())
                    .setRandomWindowMaxima(arrived.getRandomWindowMaxima()).setTopWindows(arrived.getTopWindows());
        }
        if (arrived.getBestExplanationId() != null) {
            out.setBestExplanationId(arrived.getBestExplanationId()).setBestExplanationText(arrived.getBestExplanationText())
                    .setBestCorrelation(arrived.getBestCorrelation()).setBestReused(arrived.getBestReused())
                    .setBestPromptTokens(arrived.getBestPromptTokens())
                    .setBestExplainerPromptTokens(arrived.getBestExplainerPromptTokens())
                    .setBestExplainerMethod(arrived.getBestExplainerMethod());
        }
        if (!arrived.getCarried().isEmpty()) {
            Map<String, Double> carried = new HashMap<>(held.getCarried());
            carried.putAll(arrived.getCarried());
            Map<String, Integer> tokens = new HashMap<>(held.getCarriedPromptTokens());
            tokens.putAll(arrived.getCarriedPromptTokens());
            out.setCarried(carried).setCarriedPromptTokens(tokens).setCarriedScore(arrived.getCarriedScore());
        }
        // explain_pending is the tracker's own, never an arrival's.
        return out.build();
    }

    /** The point's place in its series. */
    public static SeriesTimeline.Point place(DriftPoint p) {
        return new SeriesTimeline.Point(p.getNeuron().getCheckpoint(), p.getStep());
    }

    /** The neuron's max activation per random-sample window index. */
    public static Map<Long, Double> maxima(DriftPoint p) {
        Map<Long, Double> out = new HashMap<>();
        for (int i = 0; i < p.getRandomWindowIndexes().size(); i++) {
            out.put(p.getRandomWindowIndexes().get(i), p.getRandomWindowMaxima().get(i).doubleValue());
        }
        return out;
    }
}
