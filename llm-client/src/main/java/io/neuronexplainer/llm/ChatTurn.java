package io.neuronexplainer.llm;

/** One message of a chat prompt. */
public record ChatTurn(Role role, String content) {
    /** Who speaks. */
    public enum Role { SYSTEM, USER, ASSISTANT }

    public static ChatTurn system(String content) {
        return new ChatTurn(Role.SYSTEM, content);
    }

    public static ChatTurn user(String content) {
        return new ChatTurn(Role.USER, content);
    }

    public static ChatTurn assistant(String content) {
        return new ChatTurn(Role.ASSISTANT, content);
    }
}
