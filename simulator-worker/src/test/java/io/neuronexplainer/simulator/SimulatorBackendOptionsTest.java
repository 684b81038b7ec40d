package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import org.junit.jupiter.api.Test;

class SimulatorBackendOptionsTest {
    @Command(name = "t")
    static class Cmd {
        @Mixin SimulatorBackendOptions backend;
    }

    static SimulatorBackendOptions parse(String... args) {
        Cmd c = new Cmd();
        new CommandLine(c).parseArgs(args);
        return c.backend;
    }

    @Test
    void offlineBaselineIsTheDefault() {
        try (Simulator s = parse().create(new SimpleMeterRegistry())) {
            assertInstanceOf(TokenPatternSimulator.class, s);
            assertEquals("token-pattern-baseline", s.method());
            assertEquals("none", s.model());
        }
    }

    @Test
    void openaiMethodsAreChosenByFlagsWithPerMethodDefaultModels() {
        var meters = new SimpleMeterRegistry();
        try (Simulator s = parse("--method", "openai", "--llm-base-url", "http://127.0.0.1:9/v1").create(meters)) {
            // The paper's method: one window per call.
            assertInstanceOf(WindowsPerCall.class, s);
            assertEquals(CompletionsEchoSimulator.METHOD + "/windows-per-call-1", s.method());
            assertEquals(SimulatorBackendOptions.DEFAULT_COMPLETIONS_MODEL, s.model());
        }
        try (Simulator s = parse("--method", "openai", "--llm-base-url", "http://127.0.0.1:9/v1",
                "--simulator-windows-per-call", "10").create(meters)) {
            assertEquals(CompletionsEchoSimulator.METHOD + "/windows-per-call-10", s.method());
        }
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> parse("--method", "openai",
                "--llm-base-url", "http://127.0.0.1:9/v1", "--simulator-windows-per-call", "0").create(meters));
        assertEquals("--simulator-windows-per-call must be at least 1, got 0", zero.getMessage());
        try (Simulator s = parse("--method", "openai", "--llm-base-url", "http://localhost:9/v1",
                "--simulator-method", "chat-json").create(meters)) {
            assertEquals(ChatJsonSimulator.METHOD + "/windows-per-call-all", s.method(), "the chat methods: one call per neuron");
            assertEquals(SimulatorBackendOptions.DEFAULT_CHAT_MODEL, s.model());
        }
        try (Simulator s = parse("--method", "openai", "--llm-base-url", "http://localhost:9/v1",
                "--simulator-method", "chat-logprobs", "--simulator-model", "llama3").create(meters)) {
            assertEquals(ChatLogprobsSimulator.METHOD + "/windows-per-call-all", s.method());
            assertEquals("llama3", s.model());
        }
    }

    @Test
    void badFlagsGiveOneLineNamingTheProblem() {
        var meters = new SimpleMeterRegistry();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> parse("--method", "gpt").create(meters));
        assertEquals("--method must be offline or openai, got 'gpt'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> parse("--method", "openai", "--llm-base-url",
                "http://localhost:9/v1", "--simulator-method", "one-at-a-time").create(meters));
        assertTrue(e.getMessage().startsWith("--simulator-method must be"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> parse("--method", "openai", "--llm-base-url",
                "https://api.example.com/v1").settings("m", null));
        assertTrue(e.getMessage().contains("OPENAI_API_KEY"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> parse("--method", "openai", "--llm-base-url",
                "http://localhost:9/v1", "--llm-max-attempts", "0").settings("m", null));
        assertTrue(e.getMessage().contains("--llm-max-attempts"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> parse("--method", "openai", "--llm-base-url",
                "http://localhost:9/v1", "--llm-max-calls-per-minute", "-3").create(meters));
        assertEquals("--llm-max-calls-per-minute must be >= 0 (0: no cap), got -3", e.getMessage());
    }

    @Test
    void theJudgeIsOfflineByDefaultAndTheChatJudgeWithOpenaiConfiguredByItsFlags() {
        var meters = new SimpleMeterRegistry();
        try (Judge j = parse().createJudge(meters)) {
            assertInstanceOf(TokenPatternJudge.class, j);
            assertEquals("token-pattern-judge", j.method());
            assertEquals("none", j.model());
        }
        try (Judge j = parse("--method", "openai", "--llm-base-url", "http://127.0.0.1:9/v1",
                "--simulator-model", "sim-model").createJudge(meters)) {
            assertInstanceOf(ChatJudge.class, j);
            assertEquals("chat-judge/" + JudgePrompt.VERSION + "/excerpts-per-call-all/logprobs", j.method(),
                    "all excerpts in one call, logprobs on");
            assertEquals(SimulatorBackendOptions.DEFAULT_CHAT_MODEL, j.model(), "not the simulator's model");
        }
        try (Judge j = parse("--method", "openai", "--llm-base-url", "http://127.0.0.1:9/v1", "--judge-model", "llama3",
                "--judge-excerpts-per-call", "4", "--no-judge-logprobs").createJudge(meters)) {
            assertEquals("chat-judge/" + JudgePrompt.VERSION + "/excerpts-per-call-4", j.method());
            assertEquals("llama3", j.model());
        }
        try (Judge j = parse("--method", "openai", "--llm-base-url", "http://127.0.0.1:9/v1", "--judge-logprobs")
                .createJudge(meters)) {
            assertTrue(j.method().endsWith("/logprobs"), j.method());
        }
        var settings = parse("--method", "openai", "--llm-base-url", "http://localhost:9/v1", "--judge-model", "llama3",
                "--llm-max-calls-per-minute", "60").judgeSettings(null);
        assertEquals("judge", settings.stage());
        assertEquals("llama3", settings.model());
        assertEquals(60, settings.maxCallsPerMinute(), "the server's flags hold for the judge too");
    }

    @Test
    void badJudgeFlagsGiveOneLineNamingTheFlag() {
        var meters = new SimpleMeterRegistry();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse("--method", "openai",
                "--llm-base-url", "http://127.0.0.1:9/v1", "--judge-excerpts-per-call", "0").createJudge(meters));
        assertEquals("--judge-excerpts-per-call must be at least 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> parse("--method", "gpt").createJudge(meters));
        assertEquals("--method must be offline or openai, got 'gpt'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> parse("--method", "openai", "--llm-base-url",
                "https://api.example.com/v1").judgeSettings(null));
        assertTrue(e.getMessage().contains("OPENAI_API_KEY"), e.getMessage());
    }

    @Test
    void budgetFlagsReachTheSettings() {
        var settings = parse("--method", "openai", "--llm-base-url", "http://localhost:9/v1",
                "--llm-max-calls-per-minute", "60", "--llm-max-tokens-per-minute", "90000").settings("m", null);
        assertEquals(60, settings.maxCallsPerMinute());
        assertEquals(90_000, settings.maxTokensPerMinute());
        assertEquals("simulator", settings.stage());
    }

    @Test
    void theWorkerCountsEachResultsTokensUnderTheNeuronsCheckpointZerosIncluded() throws Exception {
        var meters = new SimpleMeterRegistry();
        var request = io.neuronexplainer.runtime.test.SampleRecords.simulationRequest(
                io.neuronexplainer.runtime.test.SampleRecords.key(2, 7));
        try (Simulator s = parse().create(meters)) {
            SimulatorWorker.process(s, new TokenPatternJudge(), request, meters).get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
        for (String kind : new String[] {"prompt", "completion"}) {
            var counter = meters.find("llm.checkpoint.tokens").tag("stage", "simulator")
                    .tag("model", request.getNeuron().getModel()).tag("checkpoint", request.getNeuron().getCheckpoint())
                    .tag("kind", kind).counter();
            assertEquals(0.0, counter.count(), kind + ": the offline baseline spends none, and the series exists");
        }
    }
}
