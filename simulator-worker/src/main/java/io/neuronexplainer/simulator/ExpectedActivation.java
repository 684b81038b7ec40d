package io.neuronexplainer.simulator;

import java.util.Map;
import java.util.OptionalDouble;

/**
 * The simulator's reading of one position's top logprobs: the expected value
 * {@code sum(p_i * i) / sum(p_i)} over the candidate tokens that are the numbers "0".."10"
 * (whitespace around a candidate ignored, so "\t5" or " 5" count as 5).
 */
public final class ExpectedActivation {
    private ExpectedActivation() {}

    /** Empty when no candidate is a number 0-10. */
    public static OptionalDouble of(Map<String, Double> topLogprobs) {
        double[] p = new double[11];
        boolean any = false;
        for (Map.Entry<String, Double> e : topLogprobs.entrySet()) {
            int digit = digit(e.getKey());
            Double lp = e.getValue();
            if (digit >= 0 && lp != null && !lp.isNaN()) {
                // Two spellings of one number (e.g. "5" and " 5") both count towards it.
                p[digit] += Math.exp(lp);
                any = true;
            }
        }
        if (!any) {
            return OptionalDouble.empty();
        }
        double weighted = 0;
        double total = 0;
        for (int i = 0; i <= 10; i++) {
            weighted += p[i] * i;
            total += p[i];
        }
        return total > 0 ? OptionalDouble.of(weighted / total) : OptionalDouble.empty();
    }

    /** 0..10 for a token spelling that number, else -1. */
    static int digit(String token) {
        String t = token == null ? "" : token.strip();
        if (t.equals("10")) {
            return 10;
        }
        return t.length() == 1 && t.charAt(0) >= '0' && t.charAt(0) <= '9' ? t.charAt(0) - '0' : -1;
    }
}
