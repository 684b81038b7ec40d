package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.llm.LlmException;
import io.neuronexplainer.llm.UnparseableOutputException;
import io.neuronexplainer.llm.test.OpenAiTestServer;
import io.neuronexplainer.llm.test.OpenAiTestServer.Reply;
import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.Judgement;
import io.neuronexplainer.schemas.SimulationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The chat judge against a local OpenAI-format server: what it sends, how it reads the answer. */
class ChatJudgeTest {
    static final List<Excerpt> EXCERPTS = List.of(
            new Excerpt(11L, List.of(" The", " cat", " sat", " down"), List.of(1, 2)),
            new Excerpt(40L, List.of(" A", " dog", "\n", " barked"), List.of(0)),
            new Excerpt(52L, List.of(" Cats", " purr"), List.of(1)));

    static SimulationRequest request(String kind) {
        List<Excerpt> excerpts = kind.equals(Identities.FUZZING_SCORER) ? EXCERPTS
                : EXCERPTS.stream().map(e -> new Excerpt(e.getWindowIndex(), e.getTokens(), List.<Integer>of())).toList();
        return new SimulationRequest(TokenPatternSimulatorTest.KEY, "e1", " the word \"cat\"\nin any form", List.of(),
                "run-1", null, 120, "x/v1", kind, excerpts);
    }

    static Judge judge(OpenAiTestServer server, Integer perCall, boolean logprobs) {
        return SimulatorBackendOptions.openai(server.baseUrl(), "chat-json", "sim-model").judgeModel("judge-model")
                .judgeExcerptsPerCall(perCall).judgeLogprobs(logprobs).retries(2, 10, 10).createJudge(new SimpleMeterRegistry());
    }

    static final List<String> ANSWER = List.of("[", "1", ",", " 0", ",", " 1", "]");

    @Test
    void detectionSendsTheExplanationAndEveryExcerptAndReadsProbabilitiesFromTopLogprobs() throws Exception {
        // At "1": p(1)=0.6, p(0)=0.2 -> 0.75. At " 0": only "0"-like candidates -> 0. At " 1": none -> the written 1.
        Map<Integer, Map<String, Double>> tops = Map.of(
                1, Map.of("1", Math.log(0.4), " 1", Math.log(0.2), "0", Math.log(0.2), "[", -3.0),
                3, Map.of(" 0", Math.log(0.7), "0", Math.log(0.2)),
                5, Map.of("]", -1.0));
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(ChatSimulatorsTest.chatWithLogprobs(ANSWER, tops)));
             Judge judge = judge(server, null, true)) {
            assertEquals("chat-judge/" + JudgePrompt.VERSION + "/excerpts-per-call-all/logprobs", judge.method());
            assertEquals("judge-model", judge.model());
            JudgeResult r = judge.judge(request(Identities.DETECTION_SCORER)).get(10, TimeUnit.SECONDS);
            List<Judgement> j = r.judgements();
            assertEquals(List.of(true, false, true), j.stream().map(Judgement::getSaysYes).toList());
            assertEquals(0.75, j.get(0).getYesProbability(), 1e-9);
            assertEquals(0.0, j.get(1).getYesProbability(), 1e-9);
            assertEquals(1.0, j.get(2).getYesProbability(), 1e-9);
            assertEquals(List.of(11L, 40L, 52L), j.stream().map(Judgement::getWindowIndex).toList());
            assertEquals(300, r.promptTokens());
            assertEquals(ANSWER.size(), r.completionTokens());

            assertEquals(1, server.requests().size(), "all excerpts in one call by default");
            JsonNode body = server.requests().get(0).body();
            assertEquals("/v1/chat/completions", server.requests().get(0).path());
            assertEquals("judge-model", body.get("model").asText());
            assertTrue(body.get("logprobs").asBoolean());
            assertEquals(5, body.get("top_logprobs").asInt());
            assertEquals(0.0, body.get("temperature").asDouble());
            JsonNode messages = body.get("messages");
            assertEquals(2, messages.size());
            assertEquals("system", messages.get(0).get("role").asText());
            assertEquals(JudgePrompt.DETECTION, messages.get(0).get("content").asText());
            assertEquals("user", messages.get(1).get("role").asText());
            String user = messages.get(1).get("content").asText();
            assertTrue(user.startsWith("Explanation: the main thing this neuron does is find the word \"cat\" in any form\n\n"), user);
            assertTrue(user.contains("\nExcerpt 1: The cat sat down\nExcerpt 2: A dog\\n barked\nExcerpt 3: Cats purr\n"), user);
            assertFalse(user.contains("<<"), "detection shows no marks");
            assertTrue(user.endsWith("Answer with a list of 3 numbers, 0 or 1, one per excerpt, like [1, 0, 0, 1], and nothing else."),
                    user);
        }
    }

    @Test
    void fuzzingRendersEachRunOfMarkedTokensInOnePairOfMarks() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion("m", "[0, 1, 1]")));
             Judge judge = judge(server, null, true)) {
            JudgeResult r = judge.judge(request(Identities.FUZZING_SCORER)).get(10, TimeUnit.SECONDS);
            assertEquals(List.of(false, true, true), r.judgements().stream().map(Judgement::getSaysYes).toList());
            assertEquals(List.of(List.of(1, 2), List.of(0), List.of(1)), r.judgements().stream().map(Judgement::getMarked).toList(),
                    "the marks shown, echoed");
            // Logprobs asked for, none sent: no probabilities, but the answers stand.
            r.judgements().forEach(j -> assertNull(j.getYesProbability()));
            JsonNode messages = server.requests().get(0).body().get("messages");
            assertEquals(JudgePrompt.FUZZING, messages.get(0).get("content").asText());
            String user = messages.get(1).get("content").asText();
            assertTrue(user.contains("\nExcerpt 1: The <<cat sat>> down\nExcerpt 2: <<A>> dog\\n barked\nExcerpt 3: Cats <<purr>>\n"),
                    user);
        }
    }

    @Test
    void withoutLogprobsNoneAreAskedForAndNoProbabilityIsRecorded() throws Exception {
        Map<Integer, Map<String, Double>> tops = Map.of(1, Map.of("1", Math.log(0.6), "0", Math.log(0.4)));
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(ChatSimulatorsTest.chatWithLogprobs(ANSWER, tops)));
             Judge judge = judge(server, null, false)) {
            assertEquals("chat-judge/" + JudgePrompt.VERSION + "/excerpts-per-call-all", judge.method());
            JudgeResult r = judge.judge(request(Identities.DETECTION_SCORER)).get(10, TimeUnit.SECONDS);
            assertEquals(List.of(true, false, true), r.judgements().stream().map(Judgement::getSaysYes).toList());
            r.judgements().forEach(j -> assertNull(j.getYesProbability()));
            JsonNode body = server.requests().get(0).body();
            assertTrue(body.get("logprobs") == null || !body.get("logprobs").asBoolean(), body.toString());
            assertNull(body.get("top_logprobs"));
        }
    }

    /** Answers a list with one entry per "Excerpt n:" line of the request's user message: 1 for odd n. */
    static Reply perExcerpt(OpenAiTestServer.Request request) {
        Matcher m = Pattern.compile("\nExcerpt (\\d+): ").matcher(request.body().get("messages").get(1).get("content").asText());
        List<String> answer = new ArrayList<>();
        while (m.find()) {
            answer.add(Integer.parseInt(m.group(1)) % 2 == 1 ? "1" : "0");
        }
        return Reply.json(OpenAiTestServer.chatCompletion("m", "Answer: [" + String.join(", ", answer) + "]"));
    }

    @Test
    void excerptsPerCallSplitsTheRequestAndJoinsTheAnswersInOrder() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(ChatJudgeTest::perExcerpt);
             Judge judge = judge(server, 2, true)) {
            assertEquals("chat-judge/" + JudgePrompt.VERSION + "/excerpts-per-call-2/logprobs", judge.method());
            JudgeResult r = judge.judge(request(Identities.FUZZING_SCORER)).get(10, TimeUnit.SECONDS);
            // Calls of excerpts 1-2 and 3, each numbered from 1: [1, 0] then [1].
            assertEquals(List.of(true, false, true), r.judgements().stream().map(Judgement::getSaysYes).toList());
            assertEquals(List.of(11L, 40L, 52L), r.judgements().stream().map(Judgement::getWindowIndex).toList());
            assertEquals(200, r.promptTokens(), "tokens of both calls");
            assertEquals(14, r.completionTokens());
            assertEquals(2, server.requests().size());
            List<String> users = server.requests().stream()
                    .map(q -> q.body().get("messages").get(1).get("content").asText()).sorted().toList();
            for (String user : users) {
                assertTrue(user.startsWith("Explanation: the main thing this neuron does is find"), user);
            }
            String both = String.join("\n---\n", users);
            assertTrue(both.contains("Excerpt 1: The <<cat sat>> down\nExcerpt 2: <<A>> dog\\n barked\n\nAnswer with a list of 2 numbers"),
                    both);
            assertTrue(both.contains("Excerpt 1: Cats <<purr>>\n\nAnswer with a list of 1 number,"), both);
            server.requests().forEach(q -> assertEquals(JudgePrompt.FUZZING, q.body().get("messages").get(0).get("content").asText()));
        }
    }

    @Test
    void aListOfTheWrongLengthIsRetriedThenFails() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion("m", "[1, 0]")));
             Judge judge = judge(server, null, true)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> judge.judge(request(Identities.DETECTION_SCORER)).get(10, TimeUnit.SECONDS));
            LlmException llm = assertInstanceOf(LlmException.class, e.getCause());
            assertEquals(2, llm.attempts());
            assertEquals(2, server.requests().size());
            assertTrue(llm.getMessage().contains("the answer's list has 2 entries for 3 excerpts"), llm.getMessage());
            assertInstanceOf(UnparseableOutputException.class, llm.getCause());
        }
    }

    @Test
    void aListHoldingAnythingButZerosAndOnesIsRetriedThenFails() throws Exception {
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> Reply.json(OpenAiTestServer.chatCompletion("m", "[1, yes, 0]")));
             Judge judge = judge(server, null, true)) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> judge.judge(request(Identities.DETECTION_SCORER)).get(10, TimeUnit.SECONDS));
            LlmException llm = assertInstanceOf(LlmException.class, e.getCause());
            assertEquals(2, llm.attempts());
            assertTrue(llm.getMessage().contains("holds 'yes', not 0 or 1"), llm.getMessage());
        }
    }

    @Test
    void theLastListOfTheAnswerCountsAndItsLogprobsAreReadThere() {
        // A list in the reasoning, then the answer; the logprobs' 0s and 1s are read in the last list only.
        List<String> tokens = List.of("Maybe", " [", "0", ",", " 0", "]", ".", " Answer", ":", " [", "1", ",", " 0", "]");
        JsonNode completion = parse(ChatSimulatorsTest.chatWithLogprobs(tokens, Map.of(
                2, Map.of("0", Math.log(0.9), "1", Math.log(0.1)),
                10, Map.of("1", Math.log(0.3), "0", Math.log(0.1)))));
        JudgeAnswer a = JudgeAnswer.read(completion, 2);
        assertEquals(List.of(true, false), a.saysYes());
        assertEquals(0.75, a.yesProbability().get(0), 1e-9);
        assertEquals(0.0, a.yesProbability().get(1), 1e-9);
        // Logprobs whose 0s and 1s do not line up with the answers (a tokenizer writing "1," as one token): none.
        JudgeAnswer merged = JudgeAnswer.read(parse(ChatSimulatorsTest.chatWithLogprobs(List.of("[", "1,", " 0", "]"),
                Map.of(1, Map.of("1,", -0.1)))), 2);
        assertEquals(List.of(true, false), merged.saysYes());
        assertEquals(java.util.Arrays.asList(null, null), merged.yesProbability());
        assertThrows(UnparseableOutputException.class, () -> JudgeAnswer.read(parse(OpenAiTestServer.chatCompletion("m", "yes, no")), 2));
        assertThrows(UnparseableOutputException.class, () -> JudgeAnswer.read(parse(OpenAiTestServer.chatCompletion("m", "[]")), 1));
    }

    private static JsonNode parse(String json) {
        try {
            return ChatSimulatorsTest.JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
