package io.neuronexplainer.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ChatPromptTokensTest {
    @Test
    void countsAsOpenAiBillsAChatRequest() {
        // OpenAI's API reference example: one user message "Hello!" to gpt-3.5-turbo reports prompt_tokens 9.
        assertEquals(9, ChatPromptTokens.forModel("gpt-3.5-turbo").count(List.of(ChatTurn.user("Hello!"))));
        ChatPromptTokens mini = ChatPromptTokens.forModel("gpt-4o-mini");
        assertEquals("o200k_base", mini.encodingName());
        // "You are a helpful assistant." is 6 tokens, "Hello!" 2, each role 1: 3 + (3+1+6) + (3+1+2).
        assertEquals(19, mini.count(List.of(ChatTurn.system("You are a helpful assistant."), ChatTurn.user("Hello!"))));
    }

    @Test
    void anUnknownModelIsCountedWithGpt4osTokenizer() {
        ChatPromptTokens local = ChatPromptTokens.forModel("my-local-llama");
        assertEquals("o200k_base", local.encodingName());
        String window = " the cat sat on the mat\t0\n".repeat(64);
        assertTrue(local.tokens(window) > 64 * 6, "a 64-token window with its tab-separated activations");
    }
}
