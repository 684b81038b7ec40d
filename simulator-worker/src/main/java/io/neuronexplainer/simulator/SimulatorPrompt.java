package io.neuronexplainer.simulator;

import io.neuronexplainer.llm.ActivationBlocks;
import io.neuronexplainer.llm.ChatTurn;
import io.neuronexplainer.llm.FewShotExample;
import io.neuronexplainer.llm.PromptLayout;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import java.util.ArrayList;
import java.util.List;

/**
 * The "all at once" simulator prompt, character for character the reference implementation's
 * (openai/automated-interpretability, ExplanationNeuronSimulator; {@code ReferencePromptsTest}
 * checks it against the reference's own expected prompts): the instructions; each few-shot neuron
 * numbered 1..k, its explanation as a user turn and its activations as the assistant's (tokens
 * before the example's first revealed one read "unknown"); then the neuron to simulate as neuron
 * k+1, its windows with "unknown" in place of every activation.
 *
 * <p>The single text (completions-echo, the paper's method) is the turns joined with
 * {@code <|endofprompt|>} after the last user turn; it remembers where each "unknown" starts, so
 * echoed logprobs are read at exactly those positions. A chat API cannot score an assistant turn it
 * did not write, so the chat methods send the turns up to the last user turn, that turn followed by
 * the unknown blocks and an instruction, and the model writes the activations.
 */
public final class SimulatorPrompt {
    /** Recorded with the simulation's method; change it whenever the text below changes. */
    public static final String VERSION = "simulator-reference-v2";

    static final String INSTRUCTIONS = "We're studying neurons in a neural network.\n"
            + "Each neuron looks for some particular thing in a short document.\n"
            + "Look at summary of what the neuron does, and try to predict how it will fire on each token.\n\n"
            + "The activation format is token<tab>activation, activations go from 0 to 10, \"unknown\" indicates "
            + "an unknown activation. Most activations will be 0.\n";
    static final String PREFIX = "the main thing this neuron does is find";
    static final String ACTIVATIONS = "\nActivations: ";

    private final List<ChatTurn> turns;
    private final String text;
    private final int targetNeuron;
    private final List<List<Integer>> unknownOffsets;

    private SimulatorPrompt(List<ChatTurn> turns, String text, int targetNeuron, List<List<Integer>> unknownOffsets) {
        this.turns = List.copyOf(turns);
        this.text = text;
        this.targetNeuron = targetNeuron;
        this.unknownOffsets = unknownOffsets;
    }

    public static SimulatorPrompt of(SimulationRequest request) {
        List<List<String>> windows = new ArrayList<>();
        for (TokenWindow w : request.getWindows()) {
            windows.add(w.getTokens());
        }
        return of(request.getExplanationText(), windows, FewShotExample.FIXED);
    }

    public static SimulatorPrompt of(String explanation, List<List<String>> windows, List<FewShotExample> examples) {
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("a simulation request with no windows has nothing to predict");
        }
        FewShot prefix = fewShot(examples);
        List<ChatTurn> turns = new ArrayList<>(prefix.turns());
        int target = examples.size() + 1;
        turns.add(ChatTurn.user(header(target, oneLine(explanation))));
        turns.add(ChatTurn.assistant(ACTIVATIONS + ActivationBlocks.unknown(windows)));
        // The last user turn, which the text's marker closes, is the target's: PromptLayout.text of the
        // two target turns after the prefix's text is the text of all turns.
        String text = prefix.text() + PromptLayout.text(turns.subList(prefix.turns().size(), turns.size()));
        // The unknowns are in the last turn, which ends the text: walk it as ActivationBlocks.unknown lays it out.
        int at = text.length() - turns.get(turns.size() - 1).content().length() + ACTIVATIONS.length() + "\n<start>\n".length();
        List<List<Integer>> offsets = new ArrayList<>();
        for (int w = 0; w < windows.size(); w++) {
            if (w > 0) {
                at += "<end>\n<start>\n".length();
            }
            List<Integer> window = new ArrayList<>();
            for (String token : windows.get(w)) {
                at += token.length() + 1;
                window.add(at);
                at += ActivationBlocks.UNKNOWN.length() + 1;
            }
            if (windows.get(w).isEmpty()) {
                at += 1; // an empty window is an empty line
            }
            offsets.add(List.copyOf(window));
        }
        return new SimulatorPrompt(turns, text, target, List.copyOf(offsets));
    }

    /** The instructions and the examples' turns, and their contents joined: the start of every prompt. */
    private record FewShot(List<ChatTurn> turns, String text) {
    }

    /** The workers' few-shot part, built once: formatting the examples' activations was most of a prompt's cost. */
    private static final FewShot FIXED_PREFIX = fewShotOf(FewShotExample.FIXED);

    private static FewShot fewShot(List<FewShotExample> examples) {
        return examples == FewShotExample.FIXED ? FIXED_PREFIX : fewShotOf(examples);
    }

    private static FewShot fewShotOf(List<FewShotExample> examples) {
        List<ChatTurn> turns = new ArrayList<>();
        turns.add(ChatTurn.system(INSTRUCTIONS));
        for (int i = 0; i < examples.size(); i++) {
            FewShotExample ex = examples.get(i);
            turns.add(ChatTurn.user(header(i + 1, ex.explanation())));
            turns.add(ChatTurn.assistant(ACTIVATIONS + ActivationBlocks.of(ex.tokens(),
                    ActivationBlocks.rescaled(ex.activations()), false, ex.firstRevealed()) + "\n"));
        }
        StringBuilder text = new StringBuilder();
        turns.forEach(t -> text.append(t.content()));
        return new FewShot(List.copyOf(turns), text.toString());
    }

    private static String header(int neuron, String explanation) {
        return "\n\nNeuron " + neuron + "\nExplanation of neuron " + neuron + " behavior: " + PREFIX + " " + explanation;
    }

    /** The explanation as the reference passes it: stripped, and on one line. */
    static String oneLine(String explanation) {
        return explanation == null ? "" : explanation.replaceAll("[\\r\\n]+", " ").strip();
    }

    /** The message layout: system, example user/assistant pairs, the neuron's user turn and its unknown blocks. */
    public List<ChatTurn> turns() {
        return turns;
    }

    /** The single-text layout, for completions endpoints. */
    public String text() {
        return text;
    }

    /**
     * What a chat method sends: the turns up to the last user turn, which also carries the unknown
     * blocks (the reference's last assistant turn) and {@code instruction}.
     */
    public List<ChatTurn> chatMessages(String instruction) {
        List<ChatTurn> out = new ArrayList<>(turns.subList(0, turns.size() - 2));
        out.add(ChatTurn.user(turns.get(turns.size() - 2).content() + turns.get(turns.size() - 1).content() + instruction));
        return out;
    }

    /** The number the prompt gives the neuron being simulated (after the few-shot examples). */
    public int targetNeuron() {
        return targetNeuron;
    }

    /** Per window, per token: the character offset in {@link #text()} where its "unknown" starts. */
    public List<List<Integer>> unknownOffsets() {
        return unknownOffsets;
    }
}
