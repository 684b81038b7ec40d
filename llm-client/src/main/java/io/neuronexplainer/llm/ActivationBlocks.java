package io.neuronexplainer.llm;

import java.util.ArrayList;
import java.util.List;

/**
 * The activation blocks of the neuron-explainer prompts, laid out exactly as the reference
 * implementation lays them out (openai/automated-interpretability, activation_records.py):
 * {@code "\n<start>\n"}, one {@code token<TAB>value} line per token, blocks joined by
 * {@code "\n<end>\n<start>\n"}, and a final {@code "\n<end>\n"}.
 */
public final class ActivationBlocks {
    public static final String UNKNOWN = "unknown";

    private ActivationBlocks() {}

    /**
     * Windows with their 0-10 values.
     *
     * @param omitZeros    leave out the tokens whose value is 0 (the explainer's repeat)
     * @param firstRevealed per window, the first token whose value is shown; earlier ones read
     *                     "unknown" (the simulator's few-shot examples); null shows them all
     */
    public static String of(List<List<String>> tokens, List<List<Integer>> values, boolean omitZeros,
                            List<Integer> firstRevealed) {
        List<String> blocks = new ArrayList<>();
        for (int w = 0; w < tokens.size(); w++) {
            List<String> lines = new ArrayList<>();
            int from = firstRevealed == null ? 0 : firstRevealed.get(w);
            for (int i = 0; i < tokens.get(w).size(); i++) {
                int v = values.get(w).get(i);
                if (omitZeros && v == 0) {
                    continue;
                }
                lines.add(tokens.get(w).get(i) + '\t' + (i < from ? UNKNOWN : Integer.toString(v)));
            }
            blocks.add(String.join("\n", lines));
        }
        return "\n<start>\n" + String.join("\n<end>\n<start>\n", blocks) + "\n<end>\n";
    }

    /** Windows whose every value is to be predicted: each token with "unknown". */
    public static String unknown(List<List<String>> tokens) {
        List<String> blocks = new ArrayList<>();
        for (List<String> window : tokens) {
            List<String> lines = new ArrayList<>();
            for (String t : window) {
                lines.add(t + '\t' + UNKNOWN);
            }
            blocks.add(String.join("\n", lines));
        }
        return "\n<start>\n" + String.join("\n<end>\n<start>\n", blocks) + "\n<end>\n";
    }

    /** Share of the values that are not 0 (the explainer repeats the blocks without zeros below 0.2); 1 when there are none. */
    public static double nonZeroShare(List<List<Integer>> values) {
        long total = 0;
        long nonZero = 0;
        for (List<Integer> w : values) {
            for (int v : w) {
                total++;
                nonZero += v != 0 ? 1 : 0;
            }
        }
        return total == 0 ? 1 : (double) nonZero / total;
    }

    /** Values rescaled so the largest is 10: {@code min(10, floor(10 * v / max))}, as the reference scales each neuron. */
    public static List<List<Integer>> rescaled(List<List<Integer>> values) {
        int max = 0;
        for (List<Integer> w : values) {
            for (int v : w) {
                max = Math.max(max, v);
            }
        }
        List<List<Integer>> out = new ArrayList<>();
        for (List<Integer> w : values) {
            List<Integer> r = new ArrayList<>();
            for (int v : w) {
                r.add(max <= 0 || v <= 0 ? 0 : (int) Math.min(10, Math.floor(10.0 * v / max)));
            }
            out.add(r);
        }
        return out;
    }
}
