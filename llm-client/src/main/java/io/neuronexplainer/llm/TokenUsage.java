package io.neuronexplainer.llm;

/** Tokens one LLM response reports it used (0 when the server does not say). */
public record TokenUsage(int promptTokens, int completionTokens) {
    public static final TokenUsage NONE = new TokenUsage(0, 0);

    /** The usage a chat completion reports, or {@link #NONE}. */
    public static TokenUsage of(com.openai.models.chat.completions.ChatCompletion c) {
        return c.usage().map(u -> new TokenUsage((int) u.promptTokens(), (int) u.completionTokens())).orElse(NONE);
    }

    public TokenUsage plus(TokenUsage other) {
        return new TokenUsage(promptTokens + other.promptTokens, completionTokens + other.completionTokens);
    }
}
