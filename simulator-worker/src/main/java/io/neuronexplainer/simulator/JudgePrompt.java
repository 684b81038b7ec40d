package io.neuronexplainer.simulator;

import io.neuronexplainer.llm.ChatTurn;
import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.Identities;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The chat judge's prompts, one system message and one user message per call: the detection or
 * fuzzing instructions, then the explanation, the excerpts numbered from 1 (tokens concatenated;
 * for fuzzing, each run of marked tokens inside one {@code <<...>>}), and the answer's form, a
 * list of 0s and 1s, one per excerpt.
 */
public final class JudgePrompt {
    /** Recorded with the judge's method; change it whenever the text below changes. */
    public static final String VERSION = "judge-v1";

    static final String OPEN = "<<";
    static final String CLOSE = ">>";

    static final String INTRO = "We're studying neurons in a neural network. Each neuron looks for some particular "
            + "thing in a short document. You will read an explanation of what one neuron does and a numbered list "
            + "of text excerpts. Line breaks inside an excerpt are written \\n.\n\n";

    static final String DETECTION = INTRO
            + "The neuron activates on some of the excerpts and stays quiet on the others. For each excerpt, decide "
            + "from the explanation alone whether the neuron activates on it: 1 if it does, 0 if it does not.\n\n"
            + "Answer with a list of 0s and 1s, one per excerpt in order, like [1, 0, 0, 1], and nothing else.";

    static final String FUZZING = INTRO
            + "In every excerpt some tokens are marked " + OPEN + "like this" + CLOSE + " (consecutive marked tokens "
            + "share one pair of marks). In some excerpts the marked tokens are the ones the neuron activates on; in "
            + "the others they were picked at random. For each excerpt, decide from the explanation alone whether the "
            + "marked tokens are the ones the explanation describes as activating the neuron: 1 if they are, 0 if "
            + "they are not.\n\n"
            + "Answer with a list of 0s and 1s, one per excerpt in order, like [1, 0, 0, 1], and nothing else.";

    private JudgePrompt() {}

    /** The messages of one call judging {@code excerpts} (numbered from 1) of kind detection or fuzzing. */
    public static List<ChatTurn> turns(String kind, String explanation, List<Excerpt> excerpts) {
        boolean fuzzing = switch (kind) {
            case Identities.DETECTION_SCORER -> false;
            case Identities.FUZZING_SCORER -> true;
            default -> throw new IllegalArgumentException("the chat judge judges detection and fuzzing, not '" + kind + "'");
        };
        if (excerpts.isEmpty()) {
            throw new IllegalArgumentException("a " + kind + " request with no excerpts has nothing to judge");
        }
        StringBuilder user = new StringBuilder("Explanation: ").append(SimulatorPrompt.PREFIX).append(' ')
                .append(SimulatorPrompt.oneLine(explanation)).append("\n\n");
        for (int i = 0; i < excerpts.size(); i++) {
            Excerpt e = excerpts.get(i);
            user.append("Excerpt ").append(i + 1).append(": ")
                    .append(text(e.getTokens(), fuzzing ? e.getMarked() : List.of())).append('\n');
        }
        user.append("\nAnswer with a list of ").append(excerpts.size()).append(excerpts.size() == 1 ? " number" : " numbers")
                .append(", 0 or 1, one per excerpt, like [1, 0, 0, 1], and nothing else.");
        return List.of(ChatTurn.system(fuzzing ? FUZZING : DETECTION), ChatTurn.user(user.toString()));
    }

    /**
     * The excerpt's text: its tokens concatenated, each run of consecutive marked tokens inside
     * one pair of marks, the run's leading whitespace before the opening mark (" <<rain>>", which
     * reads as text does), line breaks written \n so that each excerpt stays on its own line,
     * surrounding whitespace stripped.
     */
    static String text(List<String> tokens, List<Integer> marked) {
        Set<Integer> at = new HashSet<>(marked);
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < tokens.size()) {
            if (!at.contains(i)) {
                sb.append(tokens.get(i++));
                continue;
            }
            StringBuilder run = new StringBuilder();
            while (i < tokens.size() && at.contains(i)) {
                run.append(tokens.get(i++));
            }
            String r = run.toString();
            String body = r.stripLeading();
            if (body.isEmpty()) {
                body = r; // a run of whitespace only is marked as it is
            }
            sb.append(r, 0, r.length() - body.length()).append(OPEN).append(body).append(CLOSE);
        }
        // Stripped, so that "Excerpt 1: " is followed by the text, not by its first token's space.
        return sb.toString().strip().replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n");
    }
}
