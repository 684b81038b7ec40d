package io.neuronexplainer.llm;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;

/**
 * Where and how to call an OpenAI-compatible server: base URL, API key, model, per-request
 * timeout, retries, the pipeline stage the calls are counted under in metrics, and this worker's
 * budget (calls and tokens per minute, 0 for no cap).
 */
public record LlmSettings(String baseUrl, String apiKey, String model, Duration timeout, RetryPolicy retry,
                          String stage, int maxCallsPerMinute, long maxTokensPerMinute) {
    /** The key local servers (vLLM, Ollama, llama.cpp) get when none is set: they ignore it. */
    public static final String LOCAL_DUMMY_KEY = "sk-local-unused";

    public LlmSettings {
        if (baseUrl == null || baseUrl.isBlank()) {
            throw new IllegalArgumentException("--llm-base-url is empty");
        }
        URI uri = URI.create(baseUrl);
        if (uri.getScheme() == null || uri.getHost() == null
                || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))) {
            throw new IllegalArgumentException("--llm-base-url must be an http(s) URL, got " + baseUrl);
        }
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("no model given for the " + stage + " (use --" + stage + "-model)");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("--llm-timeout-s must be positive, got " + timeout.toSeconds());
        }
        if (maxCallsPerMinute < 0) {
            throw new IllegalArgumentException("--llm-max-calls-per-minute must be >= 0 (0: no cap), got " + maxCallsPerMinute);
        }
        if (maxTokensPerMinute < 0) {
            throw new IllegalArgumentException("--llm-max-tokens-per-minute must be >= 0 (0: no cap), got " + maxTokensPerMinute);
        }
    }

    /** Settings without a budget. */
    public LlmSettings(String baseUrl, String apiKey, String model, Duration timeout, RetryPolicy retry, String stage) {
        this(baseUrl, apiKey, model, timeout, retry, stage, 0, 0);
    }

    /** These settings with the budget given (0 for no cap). */
    public LlmSettings withBudget(int maxCallsPerMinute, long maxTokensPerMinute) {
        return new LlmSettings(baseUrl, apiKey, model, timeout, retry, stage, maxCallsPerMinute, maxTokensPerMinute);
    }

    /**
     * The API key to use: {@code envKey} (from OPENAI_API_KEY) when set; a dummy for a
     * loopback server; otherwise an IllegalArgumentException with one line saying what is missing.
     */
    public static String resolveApiKey(String baseUrl, String envKey) {
        if (envKey != null && !envKey.isBlank()) {
            return envKey.trim();
        }
        if (isLoopback(baseUrl)) {
            return LOCAL_DUMMY_KEY;
        }
        throw new IllegalArgumentException("OPENAI_API_KEY is not set; --method openai needs it for " + baseUrl
                + " (a loopback --llm-base-url needs no key)");
    }

    /** True for localhost / 127.x / ::1, decided from the URL text alone (no DNS lookup). */
    public static boolean isLoopback(String baseUrl) {
        String host;
        try {
            host = URI.create(baseUrl).getHost();
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (host == null) {
            return false;
        }
        host = host.toLowerCase(Locale.ROOT);
        return host.equals("localhost") || host.endsWith(".localhost") || host.startsWith("127.")
                || host.equals("[::1]") || host.equals("::1");
    }
}
