package io.neuronexplainer.simulator;

import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.llm.ChatTurns;
import io.neuronexplainer.llm.LlmCaller;
import io.neuronexplainer.llm.LlmSettings;
import io.neuronexplainer.llm.RawJson;
import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.Judgement;
import io.neuronexplainer.schemas.SimulationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Detection and fuzzing with an OpenAI-compatible chat model: {@link JudgePrompt}'s messages, the
 * answer a list of 0s and 1s ({@link JudgeAnswer}); with logprobs on, each answer's probability
 * of yes from its top_logprobs. The excerpts go a few per call, or all in one (the default); the
 * calls of a request are sent together and their answers joined in order. The method name says
 * what changes answers across both kinds (prompt version, excerpts per call, logprobs), so
 * judgements made differently are never scored as one.
 */
public final class ChatJudge implements Judge {
    /** Every excerpt of a request in one call. */
    public static final int ALL = Integer.MAX_VALUE;
    /** Enough candidates for "0" and "1" in a few spellings each. */
    static final long TOP_LOGPROBS = 5;

    private final LlmCaller caller;
    private final int perCall;
    private final boolean logprobs;

    public ChatJudge(LlmSettings settings, MeterRegistry meters, int excerptsPerCall, boolean logprobs) {
        if (excerptsPerCall < 1) {
            throw new IllegalArgumentException("--judge-excerpts-per-call must be at least 1, got " + excerptsPerCall);
        }
        this.caller = new LlmCaller(settings, meters);
        this.perCall = excerptsPerCall;
        this.logprobs = logprobs;
    }

    @Override
    public String method() {
        return "chat-judge/" + JudgePrompt.VERSION + "/excerpts-per-call-" + (perCall == ALL ? "all" : Integer.toString(perCall))
                + (logprobs ? "/logprobs" : "");
    }

    @Override
    public String model() {
        return caller.settings().model();
    }

    @Override
    public CompletableFuture<JudgeResult> judge(SimulationRequest request) {
        List<Excerpt> excerpts = request.getExcerpts();
        List<CompletableFuture<JudgeResult>> parts = new ArrayList<>();
        try {
            for (int from = 0, to; from < excerpts.size(); from = to) {
                to = from + Math.min(perCall, excerpts.size() - from); // perCall may be ALL: no overflow
                List<Excerpt> part = excerpts.subList(from, to);
                ChatCompletionCreateParams params = params(request.getScorerKind(), request.getExplanationText(), part);
                parts.add(call(params, part));
            }
            if (parts.isEmpty()) {
                throw new IllegalArgumentException("a " + request.getScorerKind() + " request with no excerpts has nothing to judge");
            }
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<Judgement> judgements = new ArrayList<>(excerpts.size());
            int prompt = 0;
            int completion = 0;
            for (CompletableFuture<JudgeResult> p : parts) {
                JudgeResult r = p.join();
                judgements.addAll(r.judgements());
                prompt += r.promptTokens();
                completion += r.completionTokens();
            }
            return new JudgeResult(judgements, prompt, completion);
        });
    }

    ChatCompletionCreateParams params(String kind, String explanation, List<Excerpt> part) {
        ChatCompletionCreateParams.Builder b = ChatTurns.addTo(ChatCompletionCreateParams.builder(),
                        JudgePrompt.turns(kind, explanation, part))
                .model(model())
                .temperature(0.0);
        if (logprobs) {
            b.logprobs(true).topLogprobs(TOP_LOGPROBS);
        }
        return b.build();
    }

    /** One call for {@code part}; its answers become the part's judgements, echoing each excerpt. */
    private CompletableFuture<JudgeResult> call(ChatCompletionCreateParams params, List<Excerpt> part) {
        // The raw answer as a JSON tree, as the chat simulators read theirs (see RawJson).
        return caller.call(client -> client.chat().completions().withRawResponse().create(params).thenApply(RawJson::read),
                        RawJson::usage, c -> JudgeAnswer.read(c, part.size()))
                .thenApply(a -> {
                    List<Judgement> out = new ArrayList<>(part.size());
                    for (int i = 0; i < part.size(); i++) {
                        Excerpt e = part.get(i);
                        out.add(new Judgement(e.getWindowIndex(), e.getMarked(), a.value().saysYes().get(i),
                                logprobs ? a.value().yesProbability().get(i) : null));
                    }
                    return new JudgeResult(out, a.usage().promptTokens(), a.usage().completionTokens());
                });
    }

    @Override
    public void close() {
        caller.close();
    }
}
