package io.neuronexplainer.llm;

import java.util.List;

/** The reference implementation's TEST few-shot set (few_shot_examples.py), for the prompt equality tests. */
public final class ReferenceExamples {
    private ReferenceExamples() {}

    public static final List<FewShotExample> TEST = List.of(new FewShotExample(
            List.of(List.of("a", "b", "c"), List.of("d", "e", "f")),
            List.of(List.of(10, 0, 0), List.of(0, 10, 0)),
            "vowels",
            List.of(0, 1)));
}
