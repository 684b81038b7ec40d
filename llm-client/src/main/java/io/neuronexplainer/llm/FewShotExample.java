package io.neuronexplainer.llm;

import java.util.List;

/**
 * A hand-made neuron for few-shot prompts: windows of tokens with activations (rescaled so the
 * largest is 10 when shown), the explanation that completes "the main thing this neuron does is
 * find" (bare: the prompts add the space and, for the explainer, the period), and per window the
 * first token whose value the simulator prompt reveals (earlier ones read "unknown").
 */
public record FewShotExample(List<List<String>> tokens, List<List<Integer>> activations, String explanation,
                             List<Integer> firstRevealed) {
    /** Every value revealed. */
    public FewShotExample(List<List<String>> tokens, List<List<Integer>> activations, String explanation) {
        this(tokens, activations, explanation, java.util.Collections.nCopies(tokens.size(), 0));
    }

    public FewShotExample {
        if (firstRevealed.size() != tokens.size()) {
            throw new IllegalArgumentException("few-shot example: " + tokens.size() + " windows but "
                    + firstRevealed.size() + " first-revealed indexes");
        }
        if (tokens.size() != activations.size()) {
            throw new IllegalArgumentException("few-shot example: " + tokens.size() + " token windows but "
                    + activations.size() + " activation windows");
        }
        for (int i = 0; i < tokens.size(); i++) {
            if (tokens.get(i).size() != activations.get(i).size()) {
                throw new IllegalArgumentException("few-shot example window " + i + ": token and activation counts differ");
            }
        }
    }

    /**
     * The fixed examples both prompts start with (shared so the simulator sees the same
     * conventions the explainer was shown). The first has under 20% non-zero values, so the
     * explainer prompt shows its zeros-filtered repeat; the second does not.
     */
    public static final List<FewShotExample> FIXED = List.of(
            new FewShotExample(
                    List.of(List.of(" It", " happened", " in", " March", " and", " again", " in", " July", "."),
                            List.of(" The", " June", " meeting", " was", " cancelled", " because", " of", " rain")),
                    List.of(List.of(0, 0, 0, 10, 0, 0, 0, 9, 0),
                            List.of(0, 8, 0, 0, 0, 0, 0, 0)),
                    "months of the year"),
            new FewShotExample(
                    List.of(List.of(" I", " do", " not", " think", " so"),
                            List.of(" It", " isn", "'t", " true", ".")),
                    List.of(List.of(0, 1, 10, 0, 0),
                            List.of(0, 4, 9, 0, 0)),
                    "negations, especially the word \"not\""));
}
