package io.neuronexplainer.explainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.neuronexplainer.llm.ChatTurn;
import io.neuronexplainer.llm.ChatTurn.Role;
import io.neuronexplainer.llm.FewShotExample;
import io.neuronexplainer.llm.PromptLayout;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.WindowKind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Golden tests of the rules the reference layout leaves to the data (docs: "The method"): the
 * 0-10 scale, the zeros-filtered repeat under 20% non-zero, the numbering, bad input.
 */
class ExplainerPromptTest {
    static ActivationWindow window(long index, List<String> tokens, float... acts) {
        List<Float> a = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        float max = Float.NEGATIVE_INFINITY;
        for (float f : acts) {
            a.add(f);
            ids.add(0);
            max = Math.max(max, f);
        }
        return new ActivationWindow(index, WindowKind.TOP, tokens, ids, a, max);
    }

    // max_a = 4.0 over both windows. Scaled: -0.5 -> 0 (negative), 2.0 -> 5, 0.1 -> floor(0.25) = 0,
    // 4.0 -> 10, -1.0 -> 0, 3.9 -> floor(9.75) = 9.
    static final ActivationWindow W1 = window(1, List.of(" The", " cat", " sat", " on", " the", " mat", " today"),
            -0.5f, 2.0f, 0.1f, 0f, 0f, 0f, 0f);
    static final ActivationWindow W2 = window(2, List.of(" A", " dog", " ran", " far", " away", " from", " home", " now", "."),
            0f, 4.0f, 0f, 0f, -1.0f, 0f, 3.9f, 0f, 0f);
    static final ActivationWindow W2_SHORT = window(2, List.of(" A", " dog", " ran", " far", " away", " from", " home", " now"),
            0f, 4.0f, 0f, 0f, -1.0f, 0f, 3.9f, 0f);

    // Example 1: 3 of 17 values non-zero (< 20%): repeated without zeros. Example 2: 4 of 10: not repeated.
    static final String EXAMPLE_1 = "\n\nNeuron 1\nActivations:"
            + "\n<start>\n It\t0\n happened\t0\n in\t0\n March\t10\n and\t0\n again\t0\n in\t0\n July\t9\n.\t0\n<end>"
            + "\n<start>\n The\t0\n June\t8\n meeting\t0\n was\t0\n cancelled\t0\n because\t0\n of\t0\n rain\t0\n<end>\n"
            + "\nSame activations, but with all zeros filtered out:"
            + "\n<start>\n March\t10\n July\t9\n<end>\n<start>\n June\t8\n<end>\n"
            + "\nExplanation of neuron 1 behavior: the main thing this neuron does is find";
    static final String EXAMPLE_2 = "\n\nNeuron 2\nActivations:"
            + "\n<start>\n I\t0\n do\t1\n not\t10\n think\t0\n so\t0\n<end>"
            + "\n<start>\n It\t0\n isn\t4\n't\t9\n true\t0\n.\t0\n<end>\n"
            + "\nExplanation of neuron 2 behavior: the main thing this neuron does is find";

    @Test
    void underTwentyPercentNonZeroRepeatsTheBlocksWithoutZeros() {
        // 3 of 16 values non-zero = 18.75% < 20%.
        List<ChatTurn> turns = ExplainerPrompt.turns(List.of(W1, W2), FewShotExample.FIXED, PromptLayout.MESSAGES);
        assertEquals(List.of(Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT, Role.USER),
                turns.stream().map(ChatTurn::role).toList());
        assertEquals(EXAMPLE_1, turns.get(1).content());
        assertEquals(" months of the year.", turns.get(2).content());
        assertEquals(EXAMPLE_2, turns.get(3).content());
        assertEquals(" negations, especially the word \"not\".", turns.get(4).content());
        assertEquals("\n\nNeuron 3\nActivations:"
                + "\n<start>\n The\t0\n cat\t5\n sat\t0\n on\t0\n the\t0\n mat\t0\n today\t0\n<end>"
                + "\n<start>\n A\t0\n dog\t10\n ran\t0\n far\t0\n away\t0\n from\t0\n home\t9\n now\t0\n.\t0\n<end>\n"
                + "\nSame activations, but with all zeros filtered out:"
                + "\n<start>\n cat\t5\n<end>\n<start>\n dog\t10\n home\t9\n<end>\n"
                + "\nExplanation of neuron 3 behavior: the main thing this neuron does is find", turns.get(5).content());
    }

    @Test
    void exactlyTwentyPercentNonZeroIsNotRepeated() {
        // 3 of 15 values non-zero = 20%: not fewer than 20%.
        List<ChatTurn> turns = ExplainerPrompt.turns(List.of(W1, W2_SHORT), FewShotExample.FIXED, PromptLayout.MESSAGES);
        assertEquals("\n\nNeuron 3\nActivations:"
                + "\n<start>\n The\t0\n cat\t5\n sat\t0\n on\t0\n the\t0\n mat\t0\n today\t0\n<end>"
                + "\n<start>\n A\t0\n dog\t10\n ran\t0\n far\t0\n away\t0\n from\t0\n home\t9\n now\t0\n<end>\n"
                + "\nExplanation of neuron 3 behavior: the main thing this neuron does is find", turns.get(5).content());
    }

    @Test
    void aWindowWithNothingLeftAfterFilteringKeepsAnEmptyBlock() {
        ActivationWindow quiet = window(3, List.of(" x", " y", " z", " w", " v", " u"), 0f, 0f, 0f, 0f, 0f, 0f);
        ActivationWindow loud = window(4, List.of(" a", " b", " c", " d"), 0f, 8f, 0f, 0f);
        String section = ExplainerPrompt.turns(List.of(quiet, loud), List.of(), PromptLayout.MESSAGES).get(1).content();
        assertEquals("\n\nNeuron 1\nActivations:"
                + "\n<start>\n x\t0\n y\t0\n z\t0\n w\t0\n v\t0\n u\t0\n<end>"
                + "\n<start>\n a\t0\n b\t10\n c\t0\n d\t0\n<end>\n"
                + "\nSame activations, but with all zeros filtered out:"
                + "\n<start>\n\n<end>\n<start>\n b\t10\n<end>\n"
                + "\nExplanation of neuron 1 behavior: the main thing this neuron does is find", section);
    }

    @Test
    void badInputIsRefusedWithAReason() {
        assertThrows(IllegalArgumentException.class,
                () -> ExplainerPrompt.turns(List.of(), FewShotExample.FIXED, PromptLayout.MESSAGES));
        ActivationWindow ragged = new ActivationWindow(5L, WindowKind.TOP, List.of("a", "b"), List.of(0, 0),
                List.of(1f), 1f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ExplainerPrompt.turns(List.of(ragged), FewShotExample.FIXED, PromptLayout.MESSAGES));
        assertEquals("window 5 has 2 tokens but 1 activations", e.getMessage());
    }
}
