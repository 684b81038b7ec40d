package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.ActivatingTokens;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.JudgedExcerpt;
import io.neuronexplainer.schemas.Judgement;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.Simulation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A detection or fuzzing judge's answers paired with the truth, recomputed from the neuron's
 * scoring windows (the request never says which excerpts are positives). Detection: an excerpt of
 * a scoring top window is a positive, one of a scoring random window a negative. Fuzzing: every
 * excerpt is a scoring top window, and its marking is true when the marked positions are the
 * window's {@link ActivatingTokens}. A judgement of any other window, a window judged twice, or a
 * marked position outside its window makes the simulation invalid. {@code tokens} counts the
 * judged windows' tokens.
 */
public record JudgementTruth(List<JudgedExcerpt> excerpts, int tokens) {

    public static JudgementTruth of(NeuronActivations activations, Simulation simulation) {
        boolean fuzzing = switch (simulation.getScorerKind()) {
            case Identities.DETECTION_SCORER -> false;
            case Identities.FUZZING_SCORER -> true;
            default -> throw new InvalidSimulationException("scorer kind " + simulation.getScorerKind() + " is not judged");
        };
        Map<Long, ActivationWindow> top = byIndex(activations.getScoringTopWindows());
        Map<Long, ActivationWindow> random = byIndex(activations.getScoringRandomWindows());
        Set<Long> seen = new HashSet<>();
        List<JudgedExcerpt> out = new ArrayList<>(simulation.getJudgements().size());
        int tokens = 0;
        for (Judgement j : simulation.getJudgements()) {
            long index = j.getWindowIndex();
            if (!seen.add(index)) {
                throw new InvalidSimulationException(simulation.getScorerKind() + " judges window " + index + " twice");
            }
            // A top window first: a random window that is also a top one is not quiet, so no negative.
            ActivationWindow window = top.get(index);
            boolean truth;
            if (fuzzing) {
                if (window == null) {
                    throw new InvalidSimulationException("fuzzing judges window " + index
                            + ", which is not a scoring top window of the neuron");
                }
                truth = marking(window, j.getMarked()).equals(new TreeSet<>(ActivatingTokens.positions(window.getActivations())));
            } else {
                truth = window != null;
                if (window == null) {
                    window = random.get(index);
                    if (window == null) {
                        throw new InvalidSimulationException("detection judges window " + index
                                + ", which is not a scoring window of the neuron");
                    }
                }
            }
            tokens += window.getActivations().size();
            out.add(new JudgedExcerpt(index, List.copyOf(j.getMarked()), truth, j.getSaysYes(), j.getYesProbability()));
        }
        return new JudgementTruth(out, tokens);
    }

    /** The marked positions as a set, each checked to be inside its window. */
    private static Set<Integer> marking(ActivationWindow window, List<Integer> marked) {
        Set<Integer> out = new TreeSet<>();
        for (Integer p : marked) {
            if (p < 0 || p >= window.getActivations().size()) {
                throw new InvalidSimulationException("fuzzing marks position " + p + " of window " + window.getWindowIndex()
                        + ", which has " + window.getActivations().size() + " tokens");
            }
            out.add(p);
        }
        return out;
    }

    private static Map<Long, ActivationWindow> byIndex(List<ActivationWindow> windows) {
        Map<Long, ActivationWindow> out = new HashMap<>();
        for (ActivationWindow w : windows) {
            out.putIfAbsent(w.getWindowIndex(), w);
        }
        return out;
    }

    /** Judgements of a positive (truth true). */
    public int positives() {
        return (int) excerpts.stream().filter(JudgedExcerpt::getTruth).count();
    }

    /** Judgements of a negative (truth false). */
    public int negatives() {
        return excerpts.size() - positives();
    }
}
