package io.neuronexplainer.llm;

import java.util.List;

/**
 * A hand-made neuron for few-shot prompts: windows of tokens with activations already on the
 * 0-10 scale, and the explanation that completes "the main thing this neuron does is find".
 */
public record FewShotExample(List<List<String>> tokens, List<List<Integer>> activations, String explanation) {
    public FewShotExample {
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
                    " months of the year."),
            new FewShotExample(
                    List.of(List.of(" I", " do", " not", " think", " so"),
                            List.of(" It", " isn", "'t", " true", ".")),
                    List.of(List.of(0, 1, 10, 0, 0),
                            List.of(0, 4, 9, 0, 0)),
                    " negations, especially the word \"not\"."));
}
