package io.neuronexplainer.producer.sampling;

import java.util.Arrays;

/**
 * Which of a neuron's top windows (ranks 0 = best) it is explained on and which it is scored on.
 * The used ranks are spread evenly over all top-K (every other rank with K 20 and 5 + 5), then
 * dealt alternately, explanation first: explanation 0, 4, 8, 12, 16 and scoring 2, 6, 10, 14, 18.
 * Why: both splits see the strongest and the weaker top windows alike, so scoring is on windows
 * as typical as those explained, and the explainer still gets the very top window. With the
 * defaults this is exactly OpenAI's neuron-explainer: its "train" split (explanation) is top
 * records 0::4 and its "valid" split (scoring) 2::4 of the top 20.
 * The splits never share a window.
 */
public record SplitPlan(int[] explanationRanks, int[] scoringRanks) {

    /**
     * @param available how many top windows the neuron has (fewer than K on a small corpus: then
     *                  all of them are dealt, still alternately)
     */
    public static SplitPlan of(int available, int explain, int scoreTop) {
        if (available < 0 || explain < 0 || scoreTop < 0) {
            throw new IllegalArgumentException("negative split sizes");
        }
        int used = Math.min(available, explain + scoreTop);
        int[] e = new int[used];
        int[] s = new int[used];
        int ei = 0;
        int si = 0;
        for (int i = 0; i < used; i++) {
            int rank = (int) ((long) i * available / used); // distinct ranks: available >= used
            boolean explanationTurn = i % 2 == 0;
            if ((explanationTurn && ei < explain) || si == scoreTop) {
                e[ei++] = rank;
            } else {
                s[si++] = rank;
            }
        }
        e = Arrays.copyOf(e, ei);
        s = Arrays.copyOf(s, si);
        return new SplitPlan(e, s);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SplitPlan p && Arrays.equals(explanationRanks, p.explanationRanks)
                && Arrays.equals(scoringRanks, p.scoringRanks);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(explanationRanks) + Arrays.hashCode(scoringRanks);
    }

    @Override
    public String toString() {
        return "SplitPlan[explanation=" + Arrays.toString(explanationRanks) + ", scoring="
                + Arrays.toString(scoringRanks) + "]";
    }
}
