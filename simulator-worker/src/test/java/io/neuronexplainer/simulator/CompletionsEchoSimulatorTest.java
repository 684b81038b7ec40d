package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The paper's all-at-once simulator against a local OpenAI-format server that echoes logprobs. */
class CompletionsEchoSimulatorTest {
    static final ObjectMapper JSON = new ObjectMapper();
    // " cat": p(0)=.1, p(8)=.3, p(10)=.4, p(unknown)=.2 -> (2.4 + 4) / .8 = 8.0.
    static final double CAT = 8.0;
    // others: p(0)=.7, p(1)=.1, p(unknown)=.2 -> .1 / .8 = 0.125.
    static final double OTHER = 0.125;

    /**
     * Echoes the prompt as a legacy completions response: "\tunknown" split into "\t" and
     * "unknown" (or kept as one token), the rest one token per line; top_logprobs starts with
     * null as OpenAI and vLLM send it.
     */
    static String echo(String model, String prompt, boolean mergeTab, boolean withOffsets) {
        List<String> tokens = new ArrayList<>();
        Matcher m = Pattern.compile(mergeTab ? "\tunknown|[^\t\n]*\n|[^\t\n]+|\t" : "unknown|\t|[^\t\n]*\n|[^\t\n]+")
                .matcher(prompt);
        while (m.find()) {
            tokens.add(m.group());
        }
        ObjectNode lp = JSON.createObjectNode();
        ArrayNode toks = lp.putArray("tokens");
        ArrayNode tlp = lp.putArray("token_logprobs");
        ArrayNode top = lp.putArray("top_logprobs");
        ArrayNode off = lp.putArray("text_offset");
        int at = 0;
        String lineToken = "";
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            toks.add(t);
            off.add(at);
            if (i == 0) {
                tlp.addNull();
                top.addNull();
            } else {
                tlp.add(-1.0);
                ObjectNode candidates = top.addObject();
                if (t.endsWith("unknown")) {
                    String pre = mergeTab ? "\t" : "";
                    if (lineToken.equals(" cat")) {
                        candidates.put(pre + "0", Math.log(0.1)).put(pre + "8", Math.log(0.3))
                                .put(pre + "10", Math.log(0.4)).put(t, Math.log(0.2));
                    } else {
                        candidates.put(pre + "0", Math.log(0.7)).put(pre + "1", Math.log(0.1)).put(t, Math.log(0.2));
                    }
                } else {
                    candidates.put("x", -0.5);
                }
            }
            if (!t.startsWith("\t") && !t.equals("unknown")) {
                lineToken = t;
            }
            at += t.length();
        }
        if (!withOffsets) {
            lp.remove("text_offset");
        }
        ObjectNode root = JSON.createObjectNode().put("id", "cmpl-1").put("object", "text_completion")
                .put("created", 1).put("model", model);
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0).put("text", prompt).put("finish_reason", "length").set("logprobs", lp);
        root.putObject("usage").put("prompt_tokens", tokens.size()).put("completion_tokens", 0)
                .put("total_tokens", tokens.size());
        return root.toString();
    }

    static SimulatorBackendOptions options(OpenAiTestServer server, String method) {
        return SimulatorBackendOptions.openai(server.baseUrl(), method, "sim-model").retries(2, 10, 10);
    }

    static void assertPredictions(SimulatorResult r) {
        // Sample request: [" The", " cat", " sat"], [" A", " dog"].
        assertEquals(2, r.predicted().size());
        List<Float> first = r.predicted().get(0);
        assertEquals(OTHER, first.get(0), 1e-6);
        assertEquals(CAT, first.get(1), 1e-6);
        assertEquals(OTHER, first.get(2), 1e-6);
        assertEquals(List.of((float) OTHER, (float) OTHER), r.predicted().get(1));
    }

    @Test
    void sendsEchoLogprobsAndMaxTokensZeroAndReadsTheExpectedValueAtEachUnknown() throws Exception {
        SimulationRequest request = SampleRecords.simulationRequest(SampleRecords.key(2, 7));
        try (OpenAiTestServer server = OpenAiTestServer.start(r ->
                Reply.json(echo("sim-model", r.body().get("prompt").asText(), false, true)));
             Simulator sim = options(server, "completions-echo").create(new SimpleMeterRegistry())) {
            SimulatorResult r = sim.simulate(request).get(10, TimeUnit.SECONDS);
            assertPredictions(r);
            assertTrue(r.promptTokens() > 50, "usage read: " + r.promptTokens());
            // The reference's method by default: each window in a prompt of its own, the few-shot prefix repeated.
            assertEquals(2, server.requests().size());
            java.util.Set<String> sent = new java.util.HashSet<>();
            for (var sentRequest : server.requests()) {
                JsonNode body = sentRequest.body();
                assertEquals("/v1/completions", sentRequest.path());
                assertEquals("sim-model", body.get("model").asText());
                assertTrue(body.get("echo").asBoolean());
                assertEquals(5, body.get("logprobs").asInt());
                assertEquals(0, body.get("max_tokens").asInt());
                sent.add(body.get("prompt").asText());
            }
            java.util.Set<String> expected = new java.util.HashSet<>();
            for (int w = 0; w < 2; w++) {
                expected.add(SimulatorPrompt.of(SimulationRequest.newBuilder(request)
                        .setWindows(List.of(request.getWindows().get(w))).build()).text());
            }
            assertEquals(expected, sent);
            assertEquals("completions-echo/" + SimulatorPrompt.VERSION + "/windows-per-call-1", sim.method());
            assertEquals("sim-model", sim.model());
        }
    }

    @Test
    void tabMergedWithUnknownAndNoTextOffsetsAreReadToo() throws Exception {
        SimulationRequest request = SampleRecords.simulationRequest(SampleRecords.key(2, 7));
        try (OpenAiTestServer server = OpenAiTestServer.start(r ->
                Reply.json(echo("sim-model", r.body().get("prompt").asText(), true, false)));
             Simulator sim = options(server, "completions-echo").create(new SimpleMeterRegistry())) {
            assertPredictions(sim.simulate(request).get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aServerThatDoesNotEchoLogprobsEndsInLlmException() throws Exception {
        SimulationRequest request = SampleRecords.simulationRequest(SampleRecords.key(2, 7));
        String noLogprobs = "{\"id\":\"c\",\"object\":\"text_completion\",\"created\":1,\"model\":\"sim-model\","
                + "\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\",\"logprobs\":null}]}";
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(noLogprobs));
             Simulator sim = options(server, "completions-echo").windowsPerCall(2).create(new SimpleMeterRegistry())) {
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> sim.simulate(request).get(10, TimeUnit.SECONDS));
            LlmException llm = assertInstanceOf(LlmException.class, e.getCause());
            assertEquals(2, llm.attempts());
            assertEquals(2, server.requests().size());
            assertTrue(llm.getMessage().contains("no logprobs"), llm.getMessage());
        }
    }
}
