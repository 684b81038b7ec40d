package io.neuronexplainer.llm;

import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The flags that say where an OpenAI-compatible server is and how patiently to call it
 * (a picocli mixin shared by the explainer and simulator backends).
 */
public class LlmServerOptions {
    public static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";

    // Java initialisers repeat the picocli defaults so that instances built in code (tests,
    // benchmarks) behave like a command line without flags.
    @Option(names = "--llm-base-url", paramLabel = "URL", defaultValue = "${env:OPENAI_BASE_URL:-" + DEFAULT_BASE_URL + "}",
            description = "OpenAI-compatible API base URL (default: ${DEFAULT-VALUE}). Env: OPENAI_BASE_URL. "
                    + "The API key comes from OPENAI_API_KEY; a loopback URL needs none.")
    String baseUrl = envOr("OPENAI_BASE_URL", DEFAULT_BASE_URL);

    @Option(names = "--llm-timeout-s", defaultValue = "60",
            description = "Timeout of one LLM request in seconds (default: ${DEFAULT-VALUE}); a timeout is retried.")
    int timeoutSeconds = 60;

    @Option(names = "--llm-max-attempts", defaultValue = "5",
            description = "Tries per LLM call on 429/5xx/timeouts/unparseable output; then unparseable output is a dead letter, "
                    + "while 429/5xx/timeouts are tried again later by the worker (default: ${DEFAULT-VALUE}).")
    int maxAttempts = 5;

    @Option(names = "--llm-backoff-ms", defaultValue = "500",
            description = "First retry wait in ms, doubled per retry with jitter, capped at 30 s; "
                    + "a Retry-After header overrides it (default: ${DEFAULT-VALUE}).")
    long backoffMs = 500;

    @Option(names = "--llm-max-calls-per-minute", paramLabel = "N", defaultValue = "0",
            description = "This worker starts at most N LLM calls (retries included) in any minute; more wait, none is "
                    + "dropped. A pool's budget is replicas x N. 0: no cap (default: ${DEFAULT-VALUE}).")
    int maxCallsPerMinute = 0;

    @Option(names = "--llm-max-tokens-per-minute", paramLabel = "N", defaultValue = "0",
            description = "This worker starts an LLM call only while the prompt+completion tokens the server reported "
                    + "over the last minute, plus those expected of calls in flight, are below N; more wait. "
                    + "A pool's budget is replicas x N. 0: no cap (default: ${DEFAULT-VALUE}).")
    long maxTokensPerMinute = 0;

    public LlmServerOptions baseUrl(String url) {
        this.baseUrl = url;
        return this;
    }

    public LlmServerOptions retries(int maxAttempts, long backoffMs, int timeoutSeconds) {
        this.maxAttempts = maxAttempts;
        this.backoffMs = backoffMs;
        this.timeoutSeconds = timeoutSeconds;
        return this;
    }

    /** For code and tests: this worker's budget per minute (0 for no cap). */
    public LlmServerOptions budget(int maxCallsPerMinute, long maxTokensPerMinute) {
        this.maxCallsPerMinute = maxCallsPerMinute;
        this.maxTokensPerMinute = maxTokensPerMinute;
        return this;
    }

    /**
     * Settings for calls to {@code model} from {@code stage}; a bad flag or a missing key
     * (for a non-loopback server) is an IllegalArgumentException naming it.
     */
    public LlmSettings settings(String model, String stage, String envApiKey) {
        if (backoffMs < 0) {
            throw new IllegalArgumentException("--llm-backoff-ms must be >= 0, got " + backoffMs);
        }
        return new LlmSettings(baseUrl, LlmSettings.resolveApiKey(baseUrl, envApiKey), model,
                Duration.ofSeconds(timeoutSeconds), RetryPolicy.of(maxAttempts, Duration.ofMillis(backoffMs)), stage,
                maxCallsPerMinute, maxTokensPerMinute);
    }

    private static String envOr(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
