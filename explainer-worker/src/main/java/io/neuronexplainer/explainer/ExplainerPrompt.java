package io.neuronexplainer.explainer;

import io.neuronexplainer.llm.ActivationBlocks;
import io.neuronexplainer.llm.ChatTurn;
import io.neuronexplainer.llm.FewShotExample;
import io.neuronexplainer.llm.PromptLayout;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import java.util.ArrayList;
import java.util.List;

/**
 * The explainer prompt of the GPT-2 neuron-explanation work, character for character the one of
 * the reference implementation (openai/automated-interpretability, TokenActivationPairExplainer;
 * {@code ReferencePromptsTest} checks it against the reference's own expected prompts): the
 * instructions; each few-shot neuron numbered 1..k with its windows as {@code <start>} /
 * {@code token<TAB>activation} / {@code <end>} blocks on the 0-10 scale, repeated with zeros
 * filtered out when fewer than 20% of its values are non-zero, and its explanation; then the
 * neuron to explain as neuron k+1, ending with "the main thing this neuron does is find".
 *
 * <p>In the message layout each neuron is a user turn beginning with a blank line and ending with
 * that phrase, its explanation the assistant's answer; in the single-text layout the phrase opens
 * the answer, after {@code <|endofprompt|>}.
 */
public final class ExplainerPrompt {
    /** Recorded as Explanation.prompt_version; change it whenever the text below changes. */
    public static final String VERSION = "explainer-reference-v2";

    static final String INSTRUCTIONS = "We're studying neurons in a neural network. Each neuron looks for some "
            + "particular thing in a short document. Look at the parts of the document the neuron activates for "
            + "and summarize in a single sentence what the neuron is looking for. Don't list examples of words.\n\n"
            + "The activation format is token<tab>activation. Activation values range from 0 to 10. A neuron "
            + "finding what it's looking for is represented by a non-zero activation value. The higher the "
            + "activation value, the stronger the match.";
    static final String PREFIX = "the main thing this neuron does is find";
    static final String ZEROS_FILTERED = "\nSame activations, but with all zeros filtered out:";
    /** Below this share of non-zero (scaled) values the blocks are repeated without zeros. */
    static final double REPEAT_BELOW_NON_ZERO = 0.2;

    private ExplainerPrompt() {}

    /** The messages the chat explainer sends for this neuron, with the project's few-shot examples. */
    public static List<ChatTurn> messages(NeuronActivations neuron) {
        return turns(neuron.getExplanationWindows(), FewShotExample.FIXED, PromptLayout.MESSAGES);
    }

    /** The prompt in either layout; the single text is {@link PromptLayout#text} of these turns. */
    public static List<ChatTurn> turns(List<ActivationWindow> windows, List<FewShotExample> examples, PromptLayout layout) {
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("a neuron with no explanation windows cannot be explained");
        }
        List<List<String>> tokens = new ArrayList<>();
        List<List<Integer>> values = new ArrayList<>();
        ActivationScale scale = ActivationScale.over(windows);
        for (ActivationWindow w : windows) {
            if (w.getTokens().size() != w.getActivations().size()) {
                throw new IllegalArgumentException("window " + w.getWindowIndex() + " has " + w.getTokens().size()
                        + " tokens but " + w.getActivations().size() + " activations");
            }
            tokens.add(w.getTokens());
            values.add(scale.scale(w.getActivations()));
        }
        return turns(tokens, values, examples, layout);
    }

    /** As above, from windows already on the 0-10 scale. */
    public static List<ChatTurn> turns(List<List<String>> tokens, List<List<Integer>> values, List<FewShotExample> examples,
                                       PromptLayout layout) {
        List<ChatTurn> turns = new ArrayList<>();
        turns.add(ChatTurn.system(INSTRUCTIONS));
        for (int i = 0; i < examples.size(); i++) {
            FewShotExample ex = examples.get(i);
            neuron(turns, i + 1, ex.tokens(), ActivationBlocks.rescaled(ex.activations()), ex.explanation(), layout);
        }
        neuron(turns, examples.size() + 1, tokens, values, null, layout);
        return turns;
    }

    /** One neuron's user turn and, for an example (or the single text's opening), the assistant's. */
    private static void neuron(List<ChatTurn> turns, int n, List<List<String>> tokens, List<List<Integer>> values,
                               String explanation, PromptLayout layout) {
        StringBuilder user = new StringBuilder("\n\nNeuron ").append(n).append("\nActivations:")
                .append(ActivationBlocks.of(tokens, values, false, null));
        if (ActivationBlocks.nonZeroShare(values) < REPEAT_BELOW_NON_ZERO) {
            user.append(ZEROS_FILTERED).append(ActivationBlocks.of(tokens, values, true, null));
        }
        user.append("\nExplanation of neuron ").append(n).append(" behavior:");
        String answer = "";
        if (layout == PromptLayout.TEXT) {
            answer = " " + PREFIX; // after <|endofprompt|>, as the model's answer begins
        } else {
            user.append(' ').append(PREFIX);
        }
        turns.add(ChatTurn.user(user.toString()));
        if (explanation != null) {
            answer += " " + explanation + ".";
        }
        if (!answer.isEmpty()) {
            turns.add(ChatTurn.assistant(answer));
        }
    }
}
