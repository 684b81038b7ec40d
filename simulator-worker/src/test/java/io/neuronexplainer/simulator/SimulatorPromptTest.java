package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.llm.FewShotExample;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Golden test of the project's own few-shot examples in the reference layout (ReferencePromptsTest checks the layout). */
class SimulatorPromptTest {
    static final String EXPECTED = ""
            + "We're studying neurons in a neural network.\n"
            + "Each neuron looks for some particular thing in a short document.\n"
            + "Look at summary of what the neuron does, and try to predict how it will fire on each token.\n"
            + "\n"
            + "The activation format is token<tab>activation, activations go from 0 to 10, \"unknown\" indicates an "
            + "unknown activation. Most activations will be 0.\n"
            + "\n\nNeuron 1\n"
            + "Explanation of neuron 1 behavior: the main thing this neuron does is find months of the year\n"
            + "Activations: \n"
            + "<start>\n It\t0\n happened\t0\n in\t0\n March\t10\n and\t0\n again\t0\n in\t0\n July\t9\n.\t0\n<end>\n"
            + "<start>\n The\t0\n June\t8\n meeting\t0\n was\t0\n cancelled\t0\n because\t0\n of\t0\n rain\t0\n<end>\n"
            + "\n"
            + "\n\nNeuron 2\n"
            + "Explanation of neuron 2 behavior: the main thing this neuron does is find negations, especially the word \"not\"\n"
            + "Activations: \n"
            + "<start>\n I\t0\n do\t1\n not\t10\n think\t0\n so\t0\n<end>\n"
            + "<start>\n It\t0\n isn\t4\n't\t9\n true\t0\n.\t0\n<end>\n"
            + "\n"
            + "\n\nNeuron 3\n"
            + "Explanation of neuron 3 behavior: the main thing this neuron does is find the word cat<|endofprompt|>\n"
            + "Activations: \n"
            + "<start>\n The\tunknown\n cat\tunknown\n sat\tunknown\n<end>\n"
            + "<start>\n A\tunknown\n dog\tunknown\n<end>\n";

    static final List<List<String>> WINDOWS = List.of(List.of(" The", " cat", " sat"), List.of(" A", " dog"));

    @Test
    void theProjectsExamplesInTheReferenceLayout() {
        SimulatorPrompt p = SimulatorPrompt.of(" the word cat", WINDOWS, FewShotExample.FIXED);
        assertEquals(EXPECTED, p.text());
        assertEquals(3, p.targetNeuron());
    }

    @Test
    void examplesAskedForInTurnEachGiveTheirOwnPrefix() {
        List<FewShotExample> one = List.of(FewShotExample.FIXED.get(0));
        for (int round = 0; round < 2; round++) {
            assertEquals(EXPECTED, SimulatorPrompt.of(" the word cat", WINDOWS, FewShotExample.FIXED).text());
            SimulatorPrompt p = SimulatorPrompt.of(" the word cat", WINDOWS, one);
            assertEquals(EXPECTED.substring(0, EXPECTED.indexOf("\n\nNeuron 2")) + EXPECTED.substring(EXPECTED.indexOf("\n\nNeuron 3"))
                    .replace("Neuron 3", "Neuron 2").replace("neuron 3", "neuron 2"), p.text());
            assertEquals(5, p.turns().size(), "the instructions, the example's two turns and the target's two");
        }
    }

    @Test
    void remembersWhereEachUnknownStarts() {
        SimulatorPrompt p = SimulatorPrompt.of(" the word cat", WINDOWS, FewShotExample.FIXED);
        assertEquals(List.of(3, 2), p.unknownOffsets().stream().map(List::size).toList());
        int previous = 0;
        for (List<Integer> window : p.unknownOffsets()) {
            for (int at : window) {
                assertTrue(p.text().startsWith("\tunknown\n", at - 1), "offset " + at);
                assertTrue(at > previous);
                previous = at;
            }
        }
        assertEquals(p.text().lastIndexOf("unknown"), previous);
    }

    @Test
    void explanationIsStrippedToOneLine() {
        assertEquals("cats", SimulatorPrompt.oneLine(" cats "));
        assertEquals("cats and dogs", SimulatorPrompt.oneLine(" cats\nand dogs\n"));
    }
}
