package io.neuronexplainer.scorer.drift;

import io.neuronexplainer.schemas.NeuronDrift;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One layer between two consecutive checkpoints: mean activation drift (over the neurons where it
 * is defined), the share of carried
 * explanations that hold (score on the new windows within {@link #HOLDS_WITHIN} of the old
 * score, or better), and the neurons that became explainable (best >= {@link #EXPLAINABLE} now,
 * below before) or stopped being so; and the LLM prompt tokens the later checkpoint took with
 * explanations reused against without (see {@link #tokensWithReuse}).
 */
public record LayerDrift(String model, String seriesId, int layer, String from, String to, int neurons,
                         double meanActivationDrift, int carried, int holding, List<Integer> becameExplainable,
                         List<Integer> stoppedExplainable, long promptTokensWithReuse, long promptTokensWithoutReuse) {
    public static final double HOLDS_WITHIN = 0.1;
    public static final double EXPLAINABLE = 0.5;

    /** Share of carried explanations that hold; NaN when none was carried yet. */
    public double holdRate() {
        return carried == 0 ? Double.NaN : (double) holding / carried;
    }

    /** Prompt tokens reuse saved on this pair, net of the carried simulations it needs (negative when it cost more). */
    public long netTokenSaving() {
        return promptTokensWithoutReuse - promptTokensWithReuse;
    }

    /**
     * What the later checkpoint of a pair took with reuse: its own explanation and simulation unless
     * the earlier explanation was kept, plus the carried simulation, which reuse needs to decide (drift
     * asks for it anyway, but it is counted against reuse so the saving is never overstated).
     */
    public static long tokensWithReuse(NeuronDrift d) {
        return (d.getExplanationReused() ? 0 : d.getToPromptTokens())
                + (d.getCarriedPromptTokens() == null ? 0 : d.getCarriedPromptTokens());
    }

    /**
     * What it would take without reuse: every neuron explained and simulated anew; for one whose
     * explanation was kept, estimated by what that explanation's explainer call and its simulation on
     * these windows took (the same prompts, up to the windows' and explanation's own tokens).
     */
    public static long tokensWithoutReuse(NeuronDrift d) {
        return d.getToPromptTokens();
    }

    /** Aggregates per (model, series, layer, from, to), in that order. */
    public static List<LayerDrift> of(Collection<NeuronDrift> drifts) {
        Map<String, List<NeuronDrift>> groups = new TreeMap<>();
        for (NeuronDrift d : drifts) {
            var k = d.getKey();
            groups.computeIfAbsent(String.join("\u0000", k.getModel(), k.getSeriesId(),
                    String.format("%09d", k.getLayer()), String.format("%020d", d.getFromStep() + 1), k.getFromCheckpoint(),
                    k.getToCheckpoint()), x -> new ArrayList<>()).add(d);
        }
        List<LayerDrift> out = new ArrayList<>();
        for (List<NeuronDrift> group : groups.values()) {
            var k = group.get(0).getKey();
            double sum = 0;
            int defined = 0;
            int carried = 0;
            int holding = 0;
            List<Integer> became = new ArrayList<>();
            List<Integer> stopped = new ArrayList<>();
            long withReuse = 0;
            long withoutReuse = 0;
            for (NeuronDrift d : group) {
                withReuse += tokensWithReuse(d);
                withoutReuse += tokensWithoutReuse(d);
                if (!d.getActivationDriftUndefined()) { // a constant neuron's drift is 0 by convention, not measured
                    sum += d.getActivationDrift();
                    defined++;
                }
                if (d.getCarriedCorrelation() != null && d.getFromBest() != null) {
                    carried++;
                    if (d.getCarriedCorrelation() >= d.getFromBest() - HOLDS_WITHIN) {
                        holding++;
                    }
                }
                if (d.getFromBest() != null && d.getToBest() != null) {
                    boolean before = d.getFromBest() >= EXPLAINABLE;
                    boolean now = d.getToBest() >= EXPLAINABLE;
                    if (now && !before) {
                        became.add(d.getKey().getNeuron());
                    } else if (before && !now) {
                        stopped.add(d.getKey().getNeuron());
                    }
                }
            }
            became.sort(null);
            stopped.sort(null);
            out.add(new LayerDrift(k.getModel(), k.getSeriesId(), k.getLayer(), k.getFromCheckpoint(), k.getToCheckpoint(),
                    group.size(), defined == 0 ? Double.NaN : sum / defined, carried, holding, became, stopped,
                    withReuse, withoutReuse));
        }
        return out;
    }
}
