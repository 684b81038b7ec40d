package io.neuronexplainer.explainer;

import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.llm.ChatTurn;
import io.neuronexplainer.llm.ChatTurns;
import io.neuronexplainer.llm.LlmCaller;
import io.neuronexplainer.llm.LlmSettings;
import io.neuronexplainer.llm.TokenUsage;
import io.neuronexplainer.llm.UnparseableOutputException;
import io.neuronexplainer.schemas.NeuronActivations;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Explains a neuron with an OpenAI-compatible chat model: sends the {@link ExplainerPrompt} as
 * chat turns and keeps the first line of the answer as the completion of "the main thing this
 * neuron does is find".
 */
public final class OpenAiExplainer implements Explainer {
    public static final String METHOD = "openai-chat";
    /** An explanation is one sentence; this bounds cost when a model rambles. */
    static final long MAX_TOKENS = 80;
    static final int MAX_CHARS = 400;
    private static final String ECHOED_LEAD = "the main thing this neuron does is find";

    private final LlmCaller caller;

    public OpenAiExplainer(LlmSettings settings, MeterRegistry meters) {
        this.caller = new LlmCaller(settings, meters);
    }

    @Override
    public String method() {
        return METHOD;
    }

    @Override
    public String model() {
        return caller.settings().model();
    }

    @Override
    public String promptVersion() {
        return ExplainerPrompt.VERSION;
    }

    @Override
    public CompletableFuture<ExplainerResult> explain(NeuronActivations neuron) {
        List<ChatTurn> turns;
        try {
            turns = ExplainerPrompt.messages(neuron);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder().model(model())
                // max_tokens, not max_completion_tokens: the one every compatible server knows.
                .maxTokens(MAX_TOKENS)
                .temperature(0.0);
        ChatTurns.addTo(b, turns);
        ChatCompletionCreateParams params = b.build();
        return caller.call(client -> client.chat().completions().create(params),
                        TokenUsage::of, OpenAiExplainer::read)
                .thenApply(a -> new ExplainerResult(a.value(), ExplainerPrompt.VERSION,
                        a.usage().promptTokens(), a.usage().completionTokens()));
    }


    /** The answer's first non-blank line, as a continuation of "...is find" (led by a space). */
    static String read(ChatCompletion completion) {
        if (completion.choices().isEmpty()) {
            throw new UnparseableOutputException("no choices in the chat completion");
        }
        String content = completion.choices().get(0).message().content().orElse("");
        return parse(content);
    }

    static String parse(String content) {
        String line = "";
        for (String l : content.split("\\R")) {
            if (!l.isBlank()) {
                line = l.strip();
                break;
            }
        }
        // Models sometimes repeat the prompt's lead-in or quote their answer.
        int lead = line.toLowerCase().indexOf(ECHOED_LEAD);
        if (lead >= 0) {
            line = line.substring(lead + ECHOED_LEAD.length()).strip();
        }
        if (line.length() >= 2 && line.startsWith("\"") && line.endsWith("\"")) {
            line = line.substring(1, line.length() - 1).strip();
        }
        if (line.isEmpty() || line.equals(".")) {
            throw new UnparseableOutputException("empty explanation: " + preview(content));
        }
        if (line.length() > MAX_CHARS) {
            throw new UnparseableOutputException("explanation of " + line.length() + " characters is not one line: "
                    + preview(content));
        }
        return " " + line;
    }

    private static String preview(String text) {
        String one = text.replaceAll("\\s+", " ").trim();
        return one.length() > 120 ? one.substring(0, 120) + "..." : one;
    }

    @Override
    public void close() {
        caller.close();
    }
}
