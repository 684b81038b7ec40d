package io.neuronexplainer.llm;

/** Tokens one LLM response reports it used (0 when the server does not say). */
public record TokenUsage(int promptTokens, int completionTokens) {
    public static final TokenUsage NONE = new TokenUsage(0, 0);

    public TokenUsage plus(TokenUsage other) {
        return new TokenUsage(promptTokens + other.promptTokens, completionTokens + other.completionTokens);
    }
}
