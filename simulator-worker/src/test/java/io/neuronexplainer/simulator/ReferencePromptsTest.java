package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.llm.ChatTurn;
import io.neuronexplainer.llm.ReferenceExamples;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The simulator prompt equals, character for character, the prompts the reference implementation's
 * own tests expect (openai/automated-interpretability, neuron_explainer/explanations/
 * test_simulator.py: test_make_explanation_simulation_prompt_if_format and
 * ..._harmony_format), built from its TEST few-shot set, the explanation "EXPLANATION" and the
 * tokens "0", "1", "2".
 */
class ReferencePromptsTest {
    static final String SYSTEM = "We're studying neurons in a neural network.\n"
            + "Each neuron looks for some particular thing in a short document.\n"
            + "Look at summary of what the neuron does, and try to predict how it will fire on each token.\n\n"
            + "The activation format is token<tab>activation, activations go from 0 to 10, \"unknown\" indicates an unknown "
            + "activation. Most activations will be 0.\n";
    static final String EXAMPLE_USER = "\n\nNeuron 1\nExplanation of neuron 1 behavior: the main thing this neuron does is find vowels";
    static final String EXAMPLE_ASSISTANT = "\nActivations: \n<start>\na\t10\nb\t0\nc\t0\n<end>\n<start>\nd\tunknown\ne\t10\nf\t0\n<end>\n\n";
    static final String TARGET_USER = "\n\nNeuron 2\nExplanation of neuron 2 behavior: the main thing this neuron does is find EXPLANATION";
    static final String TARGET_ASSISTANT = "\nActivations: \n<start>\n0\tunknown\n1\tunknown\n2\tunknown\n<end>\n";

    static SimulatorPrompt prompt() {
        return SimulatorPrompt.of("EXPLANATION", List.of(List.of("0", "1", "2")), ReferenceExamples.TEST);
    }

    @Test
    void singleTextLayoutEqualsTheReferenceTestsExpectedPrompt() {
        String expected = SYSTEM
                + "\n\nNeuron 1\nExplanation of neuron 1 behavior: the main thing this neuron does is find vowels\n"
                + "Activations: \n<start>\na\t10\nb\t0\nc\t0\n<end>\n<start>\nd\tunknown\ne\t10\nf\t0\n<end>\n\n\n\n"
                + "Neuron 2\nExplanation of neuron 2 behavior: the main thing this neuron does is find EXPLANATION<|endofprompt|>\n"
                + "Activations: \n<start>\n0\tunknown\n1\tunknown\n2\tunknown\n<end>\n";
        assertEquals(expected, prompt().text());
    }

    @Test
    void messageLayoutEqualsTheReferenceTestsExpectedMessages() {
        assertEquals(List.of(ChatTurn.system(SYSTEM), ChatTurn.user(EXAMPLE_USER), ChatTurn.assistant(EXAMPLE_ASSISTANT),
                ChatTurn.user(TARGET_USER), ChatTurn.assistant(TARGET_ASSISTANT)), prompt().turns());
    }

    @Test
    void chatMethodsSendTheMessagesUpToTheLastUserTurnWithTheBlocksToFillIn() {
        assertEquals(List.of(ChatTurn.system(SYSTEM), ChatTurn.user(EXAMPLE_USER), ChatTurn.assistant(EXAMPLE_ASSISTANT),
                ChatTurn.user(TARGET_USER + TARGET_ASSISTANT + "\n\nFill in.")), prompt().chatMessages("\n\nFill in."));
    }

    @Test
    void everyUnknownOffsetPointsAtItsTokensUnknown() {
        List<List<String>> windows = List.of(List.of(" The", " cat", "\t"), List.of(), List.of("x", " unknown"));
        SimulatorPrompt p = SimulatorPrompt.of(" a cat ", windows, ReferenceExamples.TEST);
        String text = p.text();
        for (int w = 0; w < windows.size(); w++) {
            assertEquals(windows.get(w).size(), p.unknownOffsets().get(w).size());
            for (int i = 0; i < windows.get(w).size(); i++) {
                int at = p.unknownOffsets().get(w).get(i);
                String token = windows.get(w).get(i);
                assertTrue(text.startsWith(token + "\tunknown\n", at - token.length() - 1),
                        "window " + w + " token " + i + " at " + at);
            }
        }
        assertTrue(text.endsWith("<start>\nx\tunknown\n unknown\tunknown\n<end>\n"), text);
    }
}
