package io.neuronexplainer.simulator;

import com.openai.models.completions.CompletionCreateParams;
import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.llm.LlmCaller;
import io.neuronexplainer.llm.LlmSettings;
import io.neuronexplainer.llm.RawJson;
import io.neuronexplainer.llm.UnparseableOutputException;
import io.neuronexplainer.schemas.SimulationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The paper's "all at once" simulator: sends the {@link SimulatorPrompt} to a completions
 * endpoint with {@code echo=true}, {@code logprobs}, {@code max_tokens=0}, and reads, at every
 * {@code unknown}, the expected value over the probabilities the model gave "0".."10" there.
 */
public final class CompletionsEchoSimulator implements Simulator {
    public static final String METHOD = "completions-echo/" + SimulatorPrompt.VERSION;
    /** Top logprobs per position: OpenAI's completions endpoint allows at most 5 (the paper used 15). */
    static final long TOP_LOGPROBS = 5;

    private final LlmCaller caller;

    public CompletionsEchoSimulator(LlmSettings settings, MeterRegistry meters) {
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
    public CompletableFuture<SimulatorResult> simulate(SimulationRequest request) {
        SimulatorPrompt prompt;
        try {
            prompt = SimulatorPrompt.of(request);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletionCreateParams params = CompletionCreateParams.builder()
                .model(model())
                .prompt(prompt.text())
                .echo(true)
                .logprobs(TOP_LOGPROBS)
                .maxTokens(0)
                .temperature(0.0)
                .build();
        // Read as a stream, not the SDK's typed model nor a tree: an echoed prompt with logprobs is
        // a long answer of which a few positions count (see EchoedLogprobs).
        return caller.call(client -> client.completions().withRawResponse().create(params)
                                .thenCompose(r -> RawJson.streamTokenKeyed(r, EchoedLogprobs::read)),
                        EchoedLogprobs::usage, c -> read(prompt, c))
                .thenApply(a -> new SimulatorResult(a.value(), a.usage().promptTokens(), a.usage().completionTokens()));
    }

    /** Predictions at the prompt's unknown positions, from the echoed prompt logprobs. */
    static List<List<Float>> read(SimulatorPrompt prompt, EchoedLogprobs completion) {
        if (completion.choices() <= 0) {
            throw new UnparseableOutputException("no choices in the completion");
        }
        if (!completion.hasLogprobs()) {
            throw new UnparseableOutputException("no logprobs in the completion (does the server support echo with logprobs?)");
        }
        if (completion.tokens() == null) {
            throw new UnparseableOutputException("logprobs without tokens");
        }
        boolean[] hasTops = completion.topIsObject();
        if (hasTops == null) {
            throw new UnparseableOutputException("logprobs without top_logprobs");
        }
        List<String> tokens = completion.tokens();
        long[] offsets = offsets(tokens, completion.textOffset());
        List<List<Float>> out = new ArrayList<>();
        int echoed = 0;
        int unknowns = 0;
        for (List<Integer> window : prompt.unknownOffsets()) {
            List<Float> predicted = new ArrayList<>(window.size());
            for (int at : window) {
                int i = tokenAt(offsets, at);
                boolean tops = i >= 0 && i < hasTops.length && hasTops[i];
                unknowns++;
                echoed += tops ? 1 : 0;
                double v = tops ? completion.expected()[i] : Double.NaN;
                // No number among the top candidates: the model expects none here, i.e. 0.
                predicted.add((float) (Double.isNaN(v) ? 0 : v));
            }
            out.add(predicted);
        }
        // A short window may have no digit among its few candidates (read as 0s); no candidates at
        // all where the unknowns are means the prompt was not echoed with logprobs.
        if (unknowns > 0 && echoed == 0) {
            throw new UnparseableOutputException("no top logprobs at any unknown position (" + tokens.size()
                    + " echoed tokens): the prompt was not echoed with logprobs");
        }
        return out;
    }

    /** Each token's start offset in the prompt: text_offset when given, else cumulative lengths. */
    static long[] offsets(List<String> tokens, long[] textOffset) {
        if (textOffset != null && textOffset.length == tokens.size()) {
            return textOffset;
        }
        long[] out = new long[tokens.size()];
        long at = 0;
        for (int i = 0; i < out.length; i++) {
            out[i] = at;
            at += tokens.get(i) == null ? 0 : tokens.get(i).length();
        }
        return out;
    }

    /** The index of the token that covers character {@code at}: the last one starting at or before it. */
    static int tokenAt(long[] offsets, long at) {
        int lo = 0;
        int hi = offsets.length - 1;
        int best = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (offsets[mid] <= at) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }

    @Override
    public void close() {
        caller.close();
    }
}
