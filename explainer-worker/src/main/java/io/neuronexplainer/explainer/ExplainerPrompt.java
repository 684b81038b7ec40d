package io.neuronexplainer.explainer;

import io.neuronexplainer.llm.ChatTurn;
import io.neuronexplainer.llm.FewShotExample;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import java.util.ArrayList;
import java.util.List;

/**
 * The explainer prompt of the GPT-2 neuron-explanation work: instructions, few-shot neurons
 * with their explanations, then the neuron's explanation windows as {@code <start>} /
 * {@code token<TAB>activation} / {@code <end>} blocks on the 0-10 scale, repeated with zeros
 * filtered out when fewer than 20% of the values are non-zero, ending with
 * "Explanation of neuron 1 behavior: the main thing this neuron does is find".
 *
 * <p>Each neuron (example or target) is its own user turn and is called "neuron 1", as in the
 * reference chat format, so the prompt's last line is the same for every example.
 */
public final class ExplainerPrompt {
    /** Recorded as Explanation.prompt_version; change it whenever the text below changes. */
    public static final String VERSION = "explainer-all-at-once-v1";

    static final String INSTRUCTIONS = "We're studying neurons in a neural network. Each neuron looks for some "
            + "particular thing in a short document. Look at the parts of the document the neuron activates for "
            + "and summarize in a single sentence what the neuron is looking for. Don't list examples of words.\n\n"
            + "The activation format is token<tab>activation. Activation values range from 0 to 10. A neuron "
            + "finding what it's looking for is represented by a non-zero activation value. The higher the "
            + "activation value, the stronger the match.\n\n";
    static final String ENDING = "Explanation of neuron 1 behavior: the main thing this neuron does is find";
    static final String ZEROS_FILTERED = "Same activations, but with all zeros filtered out:\n";
    /** Below this share of non-zero (scaled) values the blocks are repeated without zeros. */
    static final double REPEAT_BELOW_NON_ZERO = 0.2;

    private final List<ChatTurn> turns;

    private ExplainerPrompt(List<ChatTurn> turns) {
        this.turns = List.copyOf(turns);
    }

    public static ExplainerPrompt of(NeuronActivations neuron) {
        return of(neuron.getExplanationWindows(), FewShotExample.FIXED);
    }

    public static ExplainerPrompt of(List<ActivationWindow> windows, List<FewShotExample> examples) {
        if (windows.isEmpty()) {
            throw new IllegalArgumentException("a neuron with no explanation windows cannot be explained");
        }
        List<ChatTurn> turns = new ArrayList<>();
        turns.add(ChatTurn.system(INSTRUCTIONS));
        for (FewShotExample ex : examples) {
            turns.add(ChatTurn.user(neuronSection(ex.tokens(), ex.activations())));
            turns.add(ChatTurn.assistant(ex.explanation()));
        }
        ActivationScale scale = ActivationScale.over(windows);
        List<List<String>> tokens = new ArrayList<>();
        List<List<Integer>> values = new ArrayList<>();
        for (ActivationWindow w : windows) {
            if (w.getTokens().size() != w.getActivations().size()) {
                throw new IllegalArgumentException("window " + w.getWindowIndex() + " has " + w.getTokens().size()
                        + " tokens but " + w.getActivations().size() + " activations");
            }
            tokens.add(w.getTokens());
            values.add(scale.scale(w.getActivations()));
        }
        turns.add(ChatTurn.user(neuronSection(tokens, values)));
        return new ExplainerPrompt(turns);
    }

    /** One neuron: its blocks, the zeros-filtered repeat when called for, and the ending. */
    static String neuronSection(List<List<String>> tokens, List<List<Integer>> values) {
        StringBuilder sb = new StringBuilder("Neuron 1\nActivations:\n");
        long total = 0;
        long nonZero = 0;
        for (int w = 0; w < tokens.size(); w++) {
            appendBlock(sb, tokens.get(w), values.get(w), false);
            for (int v : values.get(w)) {
                total++;
                nonZero += v != 0 ? 1 : 0;
            }
        }
        if (total > 0 && (double) nonZero / total < REPEAT_BELOW_NON_ZERO) {
            sb.append(ZEROS_FILTERED);
            for (int w = 0; w < tokens.size(); w++) {
                appendBlock(sb, tokens.get(w), values.get(w), true);
            }
        }
        sb.append('\n').append(ENDING);
        return sb.toString();
    }

    private static void appendBlock(StringBuilder sb, List<String> tokens, List<Integer> values, boolean omitZeros) {
        sb.append("<start>\n");
        for (int i = 0; i < tokens.size(); i++) {
            int v = values.get(i);
            if (!omitZeros || v != 0) {
                sb.append(tokens.get(i)).append('\t').append(v).append('\n');
            }
        }
        sb.append("<end>\n");
    }

    /** The prompt as chat turns: system instructions, example user/assistant pairs, the neuron. */
    public List<ChatTurn> turns() {
        return turns;
    }

    /**
     * The prompt as one text, for completions endpoints: the turns in order, each example's
     * explanation completing its ending line and followed by a blank line.
     */
    public String text() {
        StringBuilder sb = new StringBuilder();
        for (ChatTurn t : turns) {
            sb.append(t.content());
            if (t.role() == ChatTurn.Role.ASSISTANT) {
                sb.append("\n\n");
            }
        }
        return sb.toString();
    }
}
