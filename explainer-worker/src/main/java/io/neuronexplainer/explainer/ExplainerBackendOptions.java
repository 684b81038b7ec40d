package io.neuronexplainer.explainer;

import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.llm.LlmSettings;
import io.neuronexplainer.llm.RetryPolicy;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The flags that choose and configure the explainer backend (a picocli mixin): the offline
 * token-pattern baseline, or any OpenAI-compatible server. {@link #create} builds it.
 */
public class ExplainerBackendOptions {
    public static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";
    public static final String DEFAULT_MODEL = "gpt-4o-mini";

    // Java initialisers repeat the picocli defaults so that instances built in code (tests,
    // benchmarks) behave like a command line without flags.
    @Option(names = "--method", defaultValue = "offline", paramLabel = "offline|openai",
            description = "offline: token-pattern baseline, no network, no model (default). "
                    + "openai: any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp, OpenRouter).")
    String method = "offline";

    @Option(names = "--llm-base-url", paramLabel = "URL", defaultValue = "${env:OPENAI_BASE_URL:-" + DEFAULT_BASE_URL + "}",
            description = "OpenAI-compatible API base URL (default: ${DEFAULT-VALUE}). Env: OPENAI_BASE_URL. "
                    + "The API key comes from OPENAI_API_KEY; a loopback URL needs none.")
    String baseUrl = envOr("OPENAI_BASE_URL", DEFAULT_BASE_URL);

    @Option(names = "--explainer-model", defaultValue = DEFAULT_MODEL,
            description = "Explainer model for --method openai (default: ${DEFAULT-VALUE}).")
    String model = DEFAULT_MODEL;

    @Option(names = "--llm-timeout-s", defaultValue = "60",
            description = "Timeout of one LLM request in seconds (default: ${DEFAULT-VALUE}); a timeout is retried.")
    int timeoutSeconds = 60;

    @Option(names = "--llm-max-attempts", defaultValue = "5",
            description = "Tries per LLM call on 429/5xx/timeouts/unparseable output before a dead letter (default: ${DEFAULT-VALUE}).")
    int maxAttempts = 5;

    @Option(names = "--llm-backoff-ms", defaultValue = "500",
            description = "First retry wait in ms, doubled per retry with jitter, capped at 30 s; "
                    + "a Retry-After header overrides it (default: ${DEFAULT-VALUE}).")
    long backoffMs = 500;

    public ExplainerBackendOptions() {}

    /** For code and tests: the offline baseline. */
    public static ExplainerBackendOptions offline() {
        return new ExplainerBackendOptions();
    }

    /** For code and tests: an OpenAI-compatible server at {@code baseUrl}. */
    public static ExplainerBackendOptions openai(String baseUrl, String model) {
        ExplainerBackendOptions o = new ExplainerBackendOptions();
        o.method = "openai";
        o.baseUrl = baseUrl;
        o.model = model;
        return o;
    }

    /** For code and tests: retry and timeout settings. */
    public ExplainerBackendOptions retries(int maxAttempts, long backoffMs, int timeoutSeconds) {
        this.maxAttempts = maxAttempts;
        this.backoffMs = backoffMs;
        this.timeoutSeconds = timeoutSeconds;
        return this;
    }

    public String method() {
        return method;
    }

    /**
     * Builds the chosen explainer. Bad flags or a missing OPENAI_API_KEY give an
     * IllegalArgumentException with one line naming the problem.
     */
    public Explainer create(MeterRegistry meters) {
        switch (method == null ? "" : method) {
            case "offline":
                return new TokenPatternExplainer();
            case "openai":
                return new OpenAiExplainer(settings(System.getenv("OPENAI_API_KEY")), meters);
            default:
                throw new IllegalArgumentException("--method must be offline or openai, got '" + method + "'");
        }
    }

    LlmSettings settings(String envApiKey) {
        if (backoffMs < 0) {
            throw new IllegalArgumentException("--llm-backoff-ms must be >= 0, got " + backoffMs);
        }
        return new LlmSettings(baseUrl, LlmSettings.resolveApiKey(baseUrl, envApiKey), model,
                Duration.ofSeconds(timeoutSeconds), RetryPolicy.of(maxAttempts, Duration.ofMillis(backoffMs)),
                "explainer");
    }

    private static String envOr(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
