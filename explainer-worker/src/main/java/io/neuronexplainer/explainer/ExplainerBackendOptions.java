package io.neuronexplainer.explainer;

import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.llm.LlmServerOptions;
import io.neuronexplainer.llm.LlmSettings;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The flags that choose and configure the explainer backend (a picocli mixin): the offline
 * token-pattern baseline, or any OpenAI-compatible server. {@link #create} builds it.
 */
public class ExplainerBackendOptions {
    public static final String DEFAULT_BASE_URL = LlmServerOptions.DEFAULT_BASE_URL;
    public static final String DEFAULT_MODEL = "gpt-4o-mini";
    /** The {@code stage} tag of this backend's LLM meters. */
    public static final String LLM_STAGE = "explainer";

    // Java initialisers repeat the picocli defaults so that instances built in code (tests,
    // benchmarks) behave like a command line without flags.
    @Option(names = "--method", defaultValue = "offline", paramLabel = "offline|openai",
            description = "offline: token-pattern baseline, no network, no model (default). "
                    + "openai: any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp, OpenRouter).")
    String method = "offline";

    @Option(names = "--explainer-model", defaultValue = DEFAULT_MODEL,
            description = "Explainer model for --method openai (default: ${DEFAULT-VALUE}).")
    String model = DEFAULT_MODEL;

    /** The OpenAI-compatible server's flags, shared with the other backend. */
    @Mixin
    LlmServerOptions server = new LlmServerOptions();

    public ExplainerBackendOptions() {}

    /** For code and tests: the offline baseline. */
    public static ExplainerBackendOptions offline() {
        return new ExplainerBackendOptions();
    }

    /** For code and tests: an OpenAI-compatible server at {@code baseUrl}. */
    public static ExplainerBackendOptions openai(String baseUrl, String model) {
        ExplainerBackendOptions o = new ExplainerBackendOptions();
        o.method = "openai";
        o.server.baseUrl(baseUrl);
        o.model = model;
        return o;
    }

    /** For code and tests: retry and timeout settings. */
    public ExplainerBackendOptions retries(int maxAttempts, long backoffMs, int timeoutSeconds) {
        server.retries(maxAttempts, backoffMs, timeoutSeconds);
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
        return server.settings(model, LLM_STAGE, envApiKey);
    }
}
