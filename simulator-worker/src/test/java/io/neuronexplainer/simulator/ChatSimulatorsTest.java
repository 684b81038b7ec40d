package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.llm.LlmException;
import io.neuronexplainer.llm.test.OpenAiTestServer;
import io.neuronexplainer.llm.test.OpenAiTestServer.Reply;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.schemas.SimulationRequest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The chat-logprobs and chat-json simulators against a local OpenAI-format server. */
class ChatSimulatorsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final SimulationRequest REQUEST = SampleRecords.simulationRequest(SampleRecords.key(2, 7));

    /** A chat completion whose content is the concatenated tokens, each with its top_logprobs. */
    static String chatWithLogprobs(List<String> tokens, Map<Integer, Map<String, Double>> topAt) {
        ObjectNode root = JSON.createObjectNode().put("id", "chatcmpl-1").put("object", "chat.completion")
                .put("created", 1).put("model", "sim-model");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0).put("finish_reason", "stop");
        choice.putObject("message").put("role", "assistant").put("content", String.join("", tokens));
        ArrayNode content = choice.putObject("logprobs").putArray("content");
        for (int i = 0; i < tokens.size(); i++) {
            ObjectNode t = content.addObject().put("token", tokens.get(i)).put("logprob", -0.1);
            t.putNull("bytes");
            ArrayNode top = t.putArray("top_logprobs");
            topAt.getOrDefault(i, Map.of()).forEach((k, v) -> top.addObject().put("token", k).put("logprob", v).putNull("bytes"));
        }
        root.putObject("usage").put("prompt_tokens", 300).put("completion_tokens", tokens.size())
                .put("total_tokens", 300 + tokens.size());
        return root.toString();
    }

    static final List<String> ANSWER = List.of("<start>", "\n", " The", "\t", "0", "\n", " cat", "\t", "9", "\n",
            " sat", "\t", "0", "\n", "<end>", "\n", "<start>", "\n", " A", "\t", "0", "\n", " dog", "\t", "1", "\n", "<end>");
    static final Map<Integer, Map<String, Double>> TOPS = Map.of(
            4, Map.of("0", Math.log(0.9), "1", Math.log(0.1)),          // 0.1
            8, Map.of("9", Math.log(0.5), "10", Math.log(0.5), "<", -9.0), // 9.5
            12, Map.of("0", Math.log(0.8), "2", Math.log(0.2)),          // 0.4
            20, Map.of("0", 0.0),                                       // 0
            24, Map.of("1", Math.log(0.6), "4", Math.log(0.4)));         // 2.2

    @Test
    void blocksAreWhatTheRegexForThemFinds() {
        java.util.regex.Pattern regex = java.util.regex.Pattern.compile("<start>(.*?)<end>", java.util.regex.Pattern.DOTALL);
        for (String text : List.of("", "no blocks", "<start>\n a\t1\n<end>\n<start>\n b\t2\n<end>",
                "<start>a<end><end><start>b", "<start><start>a<end>", "<end><start>x\n<end>tail<start>", "<start><end>",
                "x<start>a<en<end>d<end>", "<start>")) {
            java.util.regex.Matcher m = regex.matcher(text);
            List<List<Integer>> expected = new java.util.ArrayList<>();
            while (m.find()) {
                expected.add(List.of(m.start(1), m.end(1)));
            }
            assertEquals(expected, ChatLogprobsSimulator.blocks(text).stream().map(b -> List.of(b[0], b[1])).toList(), text);
        }
    }

    @Test
    void chatLogprobsAsksForTopLogprobsAndReadsTheExpectedValueAtEachNumber() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(chatWithLogprobs(ANSWER, TOPS)));
             Simulator sim = SimulatorBackendOptions.openai(server.baseUrl(), "chat-logprobs", "sim-model")
                     .retries(2, 10, 10).create(new SimpleMeterRegistry())) {
            SimulatorResult r = sim.simulate(REQUEST).get(10, TimeUnit.SECONDS);
            List<Float> first = r.predicted().get(0);
            assertEquals(0.1, first.get(0), 1e-6);
            assertEquals(9.5, first.get(1), 1e-6);
            assertEquals(0.4, first.get(2), 1e-6);
            assertEquals(0.0, r.predicted().get(1).get(0), 1e-6);
            assertEquals(2.2, r.predicted().get(1).get(1), 1e-6);
            assertEquals(300, r.promptTokens());
            JsonNode body = server.requests().get(0).body();
            assertEquals("/v1/chat/completions", server.requests().get(0).path());
            assertEquals("sim-model", body.get("model").asText());
            assertTrue(body.get("logprobs").asBoolean());
            assertEquals(20, body.get("top_logprobs").asInt());
            SimulatorPrompt prompt = SimulatorPrompt.of(REQUEST);
            assertMessages(prompt.chatMessages(ChatLogprobsSimulator.instruction(prompt)), body);
        }
    }

    @Test
    void chatLogprobsWithAMissingLineIsRetriedThenFails() throws Exception {
        List<String> short1 = List.of("<start>", "\n", " The", "\t", "0", "\n", "<end>", "\n", "<start>", "\n",
                " A", "\t", "0", "\n", " dog", "\t", "1", "\n", "<end>");
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(chatWithLogprobs(short1, Map.of())));
             Simulator sim = SimulatorBackendOptions.openai(server.baseUrl(), "chat-logprobs", "sim-model")
                     .retries(3, 10, 10).create(new SimpleMeterRegistry())) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> sim.simulate(REQUEST).get(10, TimeUnit.SECONDS));
            LlmException llm = assertInstanceOf(LlmException.class, e.getCause());
            assertEquals(3, llm.attempts());
            assertTrue(llm.getMessage().contains("block 1 has 1 numbers for 3 tokens"), llm.getMessage());
        }
    }

    @Test
    void chatJsonAsksForJsonAndReadsTheNumbers() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion(
                "sim-model", "{\"activations\": [[0, 10, 2], [1, 12]]}")));
             Simulator sim = SimulatorBackendOptions.openai(server.baseUrl(), "chat-json", "sim-model")
                     .retries(2, 10, 10).create(new SimpleMeterRegistry())) {
            SimulatorResult r = sim.simulate(REQUEST).get(10, TimeUnit.SECONDS);
            assertEquals(List.of(List.of(0f, 10f, 2f), List.of(1f, 10f)), r.predicted());
            JsonNode body = server.requests().get(0).body();
            assertEquals("json_object", body.get("response_format").get("type").asText());
            assertEquals("sim-model", body.get("model").asText());
            SimulatorPrompt prompt = SimulatorPrompt.of(REQUEST);
            assertMessages(prompt.chatMessages(ChatJsonSimulator.instruction(prompt, ChatLogprobsSimulator.sizes(REQUEST))), body);
            assertTrue(body.get("logprobs") == null || !body.get("logprobs").asBoolean());
        }
    }

    @Test
    void chatJsonWithWrongLengthsIsRetriedThenFails() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion(
                "sim-model", "{\"activations\": [[0, 10], [1, 0]]}")));
             Simulator sim = SimulatorBackendOptions.openai(server.baseUrl(), "chat-json", "sim-model")
                     .retries(2, 10, 10).create(new SimpleMeterRegistry())) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> sim.simulate(REQUEST).get(10, TimeUnit.SECONDS));
            LlmException llm = assertInstanceOf(LlmException.class, e.getCause());
            assertEquals(2, llm.attempts());
            assertEquals(2, server.requests().size());
            assertTrue(llm.getMessage().contains("list 1 has 2 numbers for 3 tokens"), llm.getMessage());
        }
    }

    @Test
    void logprobAnswersThatAreNotJsonAreRetriedThenFail() throws Exception {
        // Both logprob methods read the body on the HTTP thread and parse it in AnswerParsers: the
        // parse's error must come back as the unusable output it is, retried, not as a stuck call.
        for (String method : List.of("chat-logprobs", "completions-echo")) {
            try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json("<html>upstream error</html>"));
                 Simulator sim = SimulatorBackendOptions.openai(server.baseUrl(), method, "sim-model")
                         .retries(2, 10, 10).create(new SimpleMeterRegistry())) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> sim.simulate(REQUEST).get(10, TimeUnit.SECONDS));
                LlmException llm = assertInstanceOf(LlmException.class, e.getCause(), method);
                assertEquals(2, llm.attempts(), method);
                assertTrue(llm.getMessage().contains("the server's answer is not JSON"), method + ": " + llm.getMessage());
            }
        }
    }

    /** The request's messages are these turns, role and content, in order. */
    static void assertMessages(List<io.neuronexplainer.llm.ChatTurn> turns, JsonNode body) {
        assertEquals(turns.size(), body.get("messages").size());
        for (int i = 0; i < turns.size(); i++) {
            assertEquals(turns.get(i).role().name().toLowerCase(java.util.Locale.ROOT), body.get("messages").get(i).get("role").asText());
            assertEquals(turns.get(i).content(), body.get("messages").get(i).get("content").asText());
        }
    }
}
