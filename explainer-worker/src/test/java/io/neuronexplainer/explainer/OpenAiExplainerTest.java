package io.neuronexplainer.explainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.llm.ChatTurn;
import io.neuronexplainer.llm.LlmException;
import io.neuronexplainer.llm.test.OpenAiTestServer;
import io.neuronexplainer.llm.test.OpenAiTestServer.Reply;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.schemas.NeuronActivations;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import org.junit.jupiter.api.Test;

/** The openai explainer against a local OpenAI-format server, and the backend flags. */
class OpenAiExplainerTest {
    static final NeuronActivations NEURON = SampleRecords.activations(SampleRecords.key(1, 5));

    @Test
    void sendsThePromptAsChatTurnsToTheModelAndKeepsTheOneLineAnswer() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion(
                "explainer-model", " the word \"cat\" after \"The\".\nSecond line ignored.")));
             Explainer explainer = ExplainerBackendOptions.openai(server.baseUrl(), "explainer-model")
                     .retries(2, 10, 10).create(meters)) {
            ExplainerResult r = explainer.explain(NEURON).get(10, TimeUnit.SECONDS);
            assertEquals(" the word \"cat\" after \"The\".", r.text());
            assertEquals(ExplainerPrompt.VERSION, r.promptVersion());
            assertEquals(100, r.promptTokens());
            assertEquals(7, r.completionTokens());
            assertEquals("openai-chat", explainer.method());
            assertEquals("explainer-model", explainer.model());

            JsonNode body = server.requests().get(0).body();
            assertEquals("/v1/chat/completions", server.requests().get(0).path());
            assertEquals("explainer-model", body.get("model").asText());
            List<ChatTurn> turns = ExplainerPrompt.messages(NEURON);
            assertEquals(turns.size(), body.get("messages").size());
            for (int i = 0; i < turns.size(); i++) {
                assertEquals(turns.get(i).role().name().toLowerCase(), body.get("messages").get(i).get("role").asText());
                assertEquals(turns.get(i).content(), body.get("messages").get(i).get("content").asText());
            }
            assertTrue(body.get("messages").get(turns.size() - 1).get("content").asText()
                    .endsWith("Explanation of neuron 3 behavior: the main thing this neuron does is find"),
                    "the neuron to explain follows the two few-shot neurons");
            assertEquals(1.0, meters.find("llm.latency").tag("stage", "explainer").timer().count());
        }
    }

    @Test
    void theWorkerCountsEachResultsTokensUnderTheNeuronsCheckpoint() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion("m", "cats")));
             Explainer explainer = ExplainerBackendOptions.openai(server.baseUrl(), "m").retries(1, 10, 10).create(meters)) {
            ExplainerWorker.process(explainer, Scorers.DEFAULT, NEURON, meters).get(10, TimeUnit.SECONDS);
            ExplainerWorker.process(explainer, Scorers.DEFAULT, NEURON, meters).get(10, TimeUnit.SECONDS);
            for (String[] kind : new String[][] {{"prompt", "200"}, {"completion", "14"}}) {
                var counter = meters.find("llm.checkpoint.tokens").tag("stage", "explainer")
                        .tag("model", NEURON.getNeuron().getModel()).tag("checkpoint", NEURON.getNeuron().getCheckpoint())
                        .tag("kind", kind[0]).counter();
                assertEquals(Double.parseDouble(kind[1]), counter.count(), kind[0]);
            }
        }
    }

    @Test
    void emptyAnswersAreRetriedThenEndInLlmException() throws Exception {
        AtomicInteger n = new AtomicInteger();
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> {
                n.incrementAndGet();
                return Reply.json(OpenAiTestServer.chatCompletion("m", "  \n "));
            });
             Explainer explainer = ExplainerBackendOptions.openai(server.baseUrl(), "m")
                     .retries(3, 10, 10).create(new SimpleMeterRegistry())) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> explainer.explain(NEURON).get(10, TimeUnit.SECONDS));
            LlmException llm = assertInstanceOf(LlmException.class, e.getCause());
            assertEquals(3, llm.attempts());
            assertEquals(3, n.get());
            assertTrue(llm.getMessage().contains("empty explanation"), llm.getMessage());
        }
    }

    @Test
    void answersAreCleanedOfEchoedLeadInsAndQuotes() {
        assertEquals(" vowels.", OpenAiExplainer.parse("The main thing this neuron does is find vowels."));
        assertEquals(" numbers in dates", OpenAiExplainer.parse("\n\"numbers in dates\"\n"));
    }

    @Command(name = "t")
    static class Cmd {
        @Mixin ExplainerBackendOptions backend;
    }

    @Test
    void flagsChooseTheBackendAndBadOnesGiveOneLine() {
        Cmd c = new Cmd();
        new CommandLine(c).parseArgs();
        try (Explainer e = c.backend.create(new SimpleMeterRegistry())) {
            assertInstanceOf(TokenPatternExplainer.class, e);
        }
        Cmd o = new Cmd();
        new CommandLine(o).parseArgs("--method", "openai", "--llm-base-url", "http://127.0.0.1:9/v1",
                "--explainer-model", "qwen2.5", "--llm-timeout-s", "5", "--llm-max-attempts", "2");
        try (Explainer e = o.backend.create(new SimpleMeterRegistry())) {
            assertInstanceOf(OpenAiExplainer.class, e);
            assertEquals("qwen2.5", e.model());
        }
        assertEquals(0, o.backend.settings(null).maxCallsPerMinute(), "no cap by default");
        Cmd capped = new Cmd();
        new CommandLine(capped).parseArgs("--method", "openai", "--llm-base-url", "http://127.0.0.1:9/v1",
                "--llm-max-calls-per-minute", "500", "--llm-max-tokens-per-minute", "200000");
        assertEquals(500, capped.backend.settings(null).maxCallsPerMinute());
        assertEquals(200_000, capped.backend.settings(null).maxTokensPerMinute());
        Cmd negative = new Cmd();
        new CommandLine(negative).parseArgs("--method", "openai", "--llm-base-url", "http://127.0.0.1:9/v1",
                "--llm-max-tokens-per-minute", "-1");
        IllegalArgumentException budget = assertThrows(IllegalArgumentException.class,
                () -> negative.backend.create(new SimpleMeterRegistry()));
        assertEquals("--llm-max-tokens-per-minute must be >= 0 (0: no cap), got -1", budget.getMessage());
        Cmd bad = new Cmd();
        new CommandLine(bad).parseArgs("--method", "claude");
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> bad.backend.create(new SimpleMeterRegistry()));
        assertEquals("--method must be offline or openai, got 'claude'", ex.getMessage());
        Cmd remote = new Cmd();
        new CommandLine(remote).parseArgs("--method", "openai", "--llm-base-url", "https://api.example.com/v1");
        ex = assertThrows(IllegalArgumentException.class, () -> remote.backend.settings(null));
        assertTrue(ex.getMessage().startsWith("OPENAI_API_KEY is not set"), ex.getMessage());
    }
}
