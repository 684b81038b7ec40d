package io.neuronexplainer.simulator;

import io.neuronexplainer.llm.FewShotExample;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import java.util.ArrayList;
import java.util.List;

/**
 * The "all at once" simulator prompt: instructions, few-shot neurons with their explanations
 * and real 0-10 activations, then the neuron's explanation and its scoring windows in the
 * explainer's block layout with {@code unknown} in place of every activation. It remembers where
 * each {@code unknown} starts, so echoed logprobs can be read at exactly those positions.
 */
public final class SimulatorPrompt {
    /** Recorded with the simulation's method; change it whenever the text below changes. */
    public static final String VERSION = "simulator-all-at-once-v1";

    static final String INSTRUCTIONS = "We're studying neurons in a neural network. Each neuron looks for some "
            + "particular thing in a short document. Look at an explanation of what the neuron does, and try to "
            + "predict its activations on each token.\n\n"
            + "The activation format is token<tab>activation, activations go from 0 to 10, \"unknown\" indicates "
            + "an unknown activation. Most activations will be 0.\n\n";
    static final String UNKNOWN = "unknown";

    private final String text;
    private final int targetNeuron;
    private final List<List<Integer>> unknownOffsets;

    private SimulatorPrompt(String text, int targetNeuron, List<List<Integer>> unknownOffsets) {
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
        StringBuilder sb = new StringBuilder(INSTRUCTIONS);
        int n = 0;
        for (FewShotExample ex : examples) {
            n++;
            header(sb, n, ex.explanation());
            for (int w = 0; w < ex.tokens().size(); w++) {
                sb.append("<start>\n");
                List<String> tokens = ex.tokens().get(w);
                for (int i = 0; i < tokens.size(); i++) {
                    sb.append(tokens.get(i)).append('\t').append(ex.activations().get(w).get(i)).append('\n');
                }
                sb.append("<end>\n");
            }
            sb.append("\n\n");
        }
        int target = n + 1;
        header(sb, target, explanation);
        List<List<Integer>> offsets = new ArrayList<>();
        for (List<String> tokens : windows) {
            sb.append("<start>\n");
            List<Integer> at = new ArrayList<>(tokens.size());
            for (String token : tokens) {
                sb.append(token).append('\t');
                at.add(sb.length());
                sb.append(UNKNOWN).append('\n');
            }
            sb.append("<end>\n");
            offsets.add(List.copyOf(at));
        }
        return new SimulatorPrompt(sb.toString(), target, List.copyOf(offsets));
    }

    private static void header(StringBuilder sb, int neuron, String explanation) {
        sb.append("Neuron ").append(neuron).append('\n')
                .append("Explanation of neuron ").append(neuron)
                .append(" behavior: the main thing this neuron does is find")
                .append(completion(explanation)).append('\n')
                .append("Activations:\n");
    }

    /** The explanation as a continuation of "...is find": one line, led by a space. */
    static String completion(String explanation) {
        String one = explanation == null ? "" : explanation.replaceAll("[\\r\\n]+", " ").stripTrailing();
        return one.isEmpty() || Character.isWhitespace(one.charAt(0)) ? one : " " + one;
    }

    public String text() {
        return text;
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
