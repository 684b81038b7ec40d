package io.neuronexplainer.simulator;

import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.llm.LlmServerOptions;
import io.neuronexplainer.llm.LlmSettings;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The flags that choose and configure the simulator backend (a picocli mixin): the offline
 * token-pattern baseline, or one of three ways to simulate with an OpenAI-compatible server;
 * and the judge that answers detection and fuzzing requests on the same backend (the offline
 * {@link TokenPatternJudge}, or the {@link ChatJudge}). {@link #create} builds the simulator,
 * {@link #createJudge} the judge.
 */
public class SimulatorBackendOptions {
    public static final String DEFAULT_BASE_URL = LlmServerOptions.DEFAULT_BASE_URL;
    /** A completions model for completions-echo; vLLM and llama.cpp serve echo+logprobs for any model. */
    public static final String DEFAULT_COMPLETIONS_MODEL = "gpt-3.5-turbo-instruct";
    public static final String DEFAULT_CHAT_MODEL = "gpt-4o-mini";
    /** The {@code stage} tag of this backend's LLM meters. */
    public static final String LLM_STAGE = "simulator";
    /**
     * The {@code stage} tag of the judge's LLM meters and per-checkpoint tokens: its own, so a
     * dashboard tells what detection and fuzzing cost from what simulation does. The judge has
     * its own LLM caller, so the --llm-max-*-per-minute caps hold for each stage separately.
     */
    public static final String JUDGE_LLM_STAGE = "judge";

    // Java initialisers repeat the picocli defaults so that instances built in code (tests,
    // benchmarks) behave like a command line without flags.
    @Option(names = "--method", defaultValue = "offline", paramLabel = "offline|openai",
            description = "offline: token-pattern baseline, no network, no model (default). "
                    + "openai: any OpenAI-compatible server; see --simulator-method.")
    String method = "offline";

    @Option(names = "--simulator-method", defaultValue = "completions-echo",
            paramLabel = "completions-echo|chat-logprobs|chat-json",
            description = "With --method openai: completions-echo (the paper's all-at-once: echo, logprobs, "
                    + "max_tokens 0; expected value over 0..10), chat-logprobs (the model writes the numbers; "
                    + "top_logprobs at each), chat-json (JSON numbers, no logprobs). Default: ${DEFAULT-VALUE}.")
    String simulatorMethod = "completions-echo";

    @Option(names = "--simulator-model",
            description = "Simulator model for --method openai (default: " + DEFAULT_COMPLETIONS_MODEL
                    + " for completions-echo, " + DEFAULT_CHAT_MODEL + " for the chat methods).")
    String model;

    @Option(names = "--simulator-windows-per-call", paramLabel = "N",
            description = "With --method openai: windows simulated per LLM call, each call with the whole few-shot "
                    + "prefix. 1 is the reference's method (each window alone: no window's tokens inform another's "
                    + "predictions); more is cheaper (fewer calls and prompt tokens). Default: 1 for completions-echo, "
                    + "all of a neuron's windows in one call for the chat methods.")
    Integer windowsPerCall;

    @Option(names = "--judge-model",
            description = "Judge model for detection and fuzzing requests with --method openai (default: "
                    + DEFAULT_CHAT_MODEL + ").")
    String judgeModel;

    @Option(names = "--judge-excerpts-per-call", paramLabel = "N",
            description = "With --method openai: detection or fuzzing excerpts judged per LLM call, each call with the "
                    + "whole instruction. Default: all of a request's excerpts in one call.")
    Integer judgeExcerptsPerCall;

    @Option(names = "--judge-logprobs", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "With --method openai: ask for top_logprobs and record each judgement's probability of yes "
                    + "(--no-judge-logprobs for servers without logprobs: probabilities are then null). Default: on.")
    boolean judgeLogprobs = true;

    /** The OpenAI-compatible server's flags, shared with the other backend. */
    @Mixin
    LlmServerOptions server = new LlmServerOptions();

    public SimulatorBackendOptions() {}

    /** For code and tests: the offline baseline. */
    public static SimulatorBackendOptions offline() {
        return new SimulatorBackendOptions();
    }

    /** For code and tests: {@code simulatorMethod} against an OpenAI-compatible server at {@code baseUrl}. */
    public static SimulatorBackendOptions openai(String baseUrl, String simulatorMethod, String model) {
        SimulatorBackendOptions o = new SimulatorBackendOptions();
        o.method = "openai";
        o.simulatorMethod = simulatorMethod;
        o.server.baseUrl(baseUrl);
        o.model = model;
        return o;
    }

    /** For code and tests: retry and timeout settings. */
    public SimulatorBackendOptions retries(int maxAttempts, long backoffMs, int timeoutSeconds) {
        server.retries(maxAttempts, backoffMs, timeoutSeconds);
        return this;
    }

    public String method() {
        return method;
    }

    /**
     * Builds the chosen simulator. Bad flags or a missing OPENAI_API_KEY give an
     * IllegalArgumentException with one line naming the problem.
     */
    public Simulator create(MeterRegistry meters) {
        switch (method == null ? "" : method) {
            case "offline":
                return new TokenPatternSimulator();
            case "openai":
                break;
            default:
                throw new IllegalArgumentException("--method must be offline or openai, got '" + method + "'");
        }
        String sm = simulatorMethod == null ? "" : simulatorMethod;
        checkSimulatorMethod(sm);
        if (windowsPerCall != null && windowsPerCall < 1) {
            throw new IllegalArgumentException("--simulator-windows-per-call must be at least 1, got " + windowsPerCall);
        }
        Simulator simulator = switch (sm) {
            case "completions-echo" ->
                    new CompletionsEchoSimulator(settings(DEFAULT_COMPLETIONS_MODEL, System.getenv("OPENAI_API_KEY")), meters);
            case "chat-logprobs" ->
                    new ChatLogprobsSimulator(settings(DEFAULT_CHAT_MODEL, System.getenv("OPENAI_API_KEY")), meters);
            default -> new ChatJsonSimulator(settings(DEFAULT_CHAT_MODEL, System.getenv("OPENAI_API_KEY")), meters);
        };
        int perCall = windowsPerCall != null ? windowsPerCall : sm.equals("completions-echo") ? 1 : WindowsPerCall.ALL;
        return new WindowsPerCall(simulator, perCall);
    }

    /**
     * Builds the judge for detection and fuzzing requests: {@link TokenPatternJudge} offline,
     * {@link ChatJudge} with --method openai. Bad flags or a missing OPENAI_API_KEY give an
     * IllegalArgumentException with one line naming the problem.
     */
    public Judge createJudge(MeterRegistry meters) {
        switch (method == null ? "" : method) {
            case "offline":
                return new TokenPatternJudge();
            case "openai":
                break;
            default:
                throw new IllegalArgumentException("--method must be offline or openai, got '" + method + "'");
        }
        if (judgeExcerptsPerCall != null && judgeExcerptsPerCall < 1) {
            throw new IllegalArgumentException("--judge-excerpts-per-call must be at least 1, got " + judgeExcerptsPerCall);
        }
        return new ChatJudge(judgeSettings(System.getenv("OPENAI_API_KEY")), meters,
                judgeExcerptsPerCall == null ? ChatJudge.ALL : judgeExcerptsPerCall, judgeLogprobs);
    }

    /** For code and tests: the judge's model (null: {@value #DEFAULT_CHAT_MODEL}). */
    public SimulatorBackendOptions judgeModel(String model) {
        this.judgeModel = model;
        return this;
    }

    /** For code and tests: excerpts per judge call (null: all of a request's). */
    public SimulatorBackendOptions judgeExcerptsPerCall(Integer n) {
        this.judgeExcerptsPerCall = n;
        return this;
    }

    /** For code and tests: whether the chat judge asks for logprobs (default true). */
    public SimulatorBackendOptions judgeLogprobs(boolean on) {
        this.judgeLogprobs = on;
        return this;
    }

    /** For code and tests: windows per LLM call (null: the method's default). */
    public SimulatorBackendOptions windowsPerCall(Integer n) {
        this.windowsPerCall = n;
        return this;
    }

    /** Accepts a known --simulator-method; else an IllegalArgumentException naming the choices. */
    public static void checkSimulatorMethod(String simulatorMethod) {
        if (!List.of("completions-echo", "chat-logprobs", "chat-json").contains(simulatorMethod)) {
            throw new IllegalArgumentException(
                    "--simulator-method must be completions-echo, chat-logprobs or chat-json, got '" + simulatorMethod + "'");
        }
    }

    LlmSettings settings(String defaultModel, String envApiKey) {
        return server.settings(model == null || model.isBlank() ? defaultModel : model, LLM_STAGE, envApiKey);
    }

    LlmSettings judgeSettings(String envApiKey) {
        return server.settings(judgeModel == null || judgeModel.isBlank() ? DEFAULT_CHAT_MODEL : judgeModel, JUDGE_LLM_STAGE,
                envApiKey);
    }

}
