package io.neuronexplainer.explainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.neuronexplainer.llm.ChatTurn;
import io.neuronexplainer.llm.PromptLayout;
import io.neuronexplainer.llm.ReferenceExamples;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.WindowKind;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The explainer prompt equals, character for character, the prompts the reference implementation's
 * own tests expect (openai/automated-interpretability, neuron_explainer/explanations/
 * test_explainer.py: test_if_formatting and test_harmony_format), built from its TEST few-shot set
 * and, as the neuron to explain, that set's first example's windows (activations 1.0 and 0.0).
 */
class ReferencePromptsTest {
    static final String SYSTEM = "We're studying neurons in a neural network. Each neuron looks for some particular thing in a short "
            + "document. Look at the parts of the document the neuron activates for and summarize in a single sentence what "
            + "the neuron is looking for. Don't list examples of words.\n\nThe activation format is token<tab>activation. "
            + "Activation values range from 0 to 10. A neuron finding what it's looking for is represented by a non-zero "
            + "activation value. The higher the activation value, the stronger the match.";
    static final String BLOCKS = "\n<start>\na\t10\nb\t0\nc\t0\n<end>\n<start>\nd\t0\ne\t10\nf\t0\n<end>\n";

    static final List<ActivationWindow> TARGET = List.of(
            new ActivationWindow(0L, WindowKind.TOP, List.of("a", "b", "c"), List.of(0, 0, 0), List.of(1f, 0f, 0f), 1f),
            new ActivationWindow(1L, WindowKind.TOP, List.of("d", "e", "f"), List.of(0, 0, 0), List.of(0f, 1f, 0f), 1f));

    @Test
    void singleTextLayoutEqualsTheReferenceTestsExpectedPrompt() {
        String expected = SYSTEM
                + "\n\nNeuron 1\nActivations:" + BLOCKS
                + "\nExplanation of neuron 1 behavior: the main thing this neuron does is find vowels."
                + "\n\nNeuron 2\nActivations:" + BLOCKS
                + "\nExplanation of neuron 2 behavior:<|endofprompt|> the main thing this neuron does is find";
        assertEquals(expected, PromptLayout.text(ExplainerPrompt.turns(TARGET, ReferenceExamples.TEST, PromptLayout.TEXT)));
    }

    @Test
    void messageLayoutEqualsTheReferenceTestsExpectedMessages() {
        List<ChatTurn> expected = List.of(
                ChatTurn.system(SYSTEM),
                ChatTurn.user("\n\nNeuron 1\nActivations:" + BLOCKS
                        + "\nExplanation of neuron 1 behavior: the main thing this neuron does is find"),
                ChatTurn.assistant(" vowels."),
                ChatTurn.user("\n\nNeuron 2\nActivations:" + BLOCKS
                        + "\nExplanation of neuron 2 behavior: the main thing this neuron does is find"));
        assertEquals(expected, ExplainerPrompt.turns(TARGET, ReferenceExamples.TEST, PromptLayout.MESSAGES));
    }
}
