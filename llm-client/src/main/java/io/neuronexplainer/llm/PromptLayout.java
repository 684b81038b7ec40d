package io.neuronexplainer.llm;

import java.util.List;

/**
 * The two layouts of the reference prompts: chat messages (its HARMONY_V4 format), or one text
 * (its INSTRUCTION_FOLLOWING format: the messages' contents joined, with {@code <|endofprompt|>}
 * after the last user message), which the completions endpoints take.
 */
public enum PromptLayout {
    MESSAGES, TEXT;

    public static final String END_OF_PROMPT = "<|endofprompt|>";

    /** The single text of {@code turns}: every content in order, the marker closing the last user turn. */
    public static String text(List<ChatTurn> turns) {
        int lastUser = -1;
        for (int i = 0; i < turns.size(); i++) {
            if (turns.get(i).role() == ChatTurn.Role.USER) {
                lastUser = i;
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < turns.size(); i++) {
            sb.append(turns.get(i).content());
            if (i == lastUser) {
                sb.append(END_OF_PROMPT);
            }
        }
        return sb.toString();
    }
}
