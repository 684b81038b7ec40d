package io.neuronexplainer.llm;

/**
 * A parsed LLM answer, with the tokens spent on it over every attempt and how many attempts
 * it took.
 */
public record LlmAnswer<T>(T value, TokenUsage usage, int attempts) {}
