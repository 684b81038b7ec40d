package io.neuronexplainer.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.llm.ChatTurns;
import io.neuronexplainer.llm.LlmCaller;
import io.neuronexplainer.llm.LlmSettings;
import io.neuronexplainer.llm.RawJson;
import io.neuronexplainer.llm.UnparseableOutputException;
import io.neuronexplainer.schemas.SimulationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Simulation for chat endpoints without logprobs: the model answers JSON
 * {@code {"activations": [[n, ...], ...]}}, one list per window, one number 0-10 per token.
 * Coarser than the logprob methods (one sampled number, not an expected value).
 */
public final class ChatJsonSimulator implements Simulator {
    public static final String METHOD = "chat-json/" + SimulatorPrompt.VERSION;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LlmCaller caller;

    public ChatJsonSimulator(LlmSettings settings, MeterRegistry meters) {
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

    static String instruction(SimulatorPrompt prompt, List<Integer> sizes) {
        return "\n\nPredict the activations of neuron " + prompt.targetNeuron() + ". Answer with JSON only, "
                + "in the form {\"activations\": [[0, 10, ...], ...]}: one list per <start>...<end> block of neuron "
                + prompt.targetNeuron() + ", in order, each with one integer from 0 to 10 per token line. "
                + "The lists have these lengths: " + sizes + ".";
    }

    @Override
    public CompletableFuture<SimulatorResult> simulate(SimulationRequest request) {
        SimulatorPrompt prompt;
        try {
            prompt = SimulatorPrompt.of(request);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        List<Integer> sizes = ChatLogprobsSimulator.sizes(request);
        ChatCompletionCreateParams params = ChatTurns.addTo(ChatCompletionCreateParams.builder(),
                        prompt.chatMessages(instruction(prompt, sizes)))
                .model(model())
                .responseFormat(ResponseFormatJsonObject.builder().build())
                .temperature(0.0)
                .build();
        // Read as a plain JSON tree, not the SDK's typed model: cheaper for a long answer (see RawJson).
        return caller.call(client -> client.chat().completions().withRawResponse().create(params).thenApply(RawJson::read),
                        RawJson::usage, c -> read(sizes, c))
                .thenApply(a -> new SimulatorResult(a.value(), a.usage().promptTokens(), a.usage().completionTokens()));
    }

    static List<List<Float>> read(List<Integer> sizes, JsonNode completion) {
        JsonNode choices = completion.path("choices");
        if (!choices.isArray() || choices.isEmpty()) {
            throw new UnparseableOutputException("no choices in the chat completion");
        }
        String content = choices.get(0).path("message").path("content").asText("").strip();
        // Some servers wrap JSON in a markdown fence despite response_format.
        if (content.startsWith("```")) {
            content = content.replaceAll("^```[a-zA-Z]*\\s*", "").replaceAll("\\s*```$", "");
        }
        JsonNode root;
        try {
            root = JSON.readTree(content);
        } catch (Exception e) {
            throw new UnparseableOutputException("not JSON: " + ChatLogprobsSimulator.preview(content));
        }
        JsonNode lists = root == null ? null : root.isArray() ? root : root.get("activations");
        if (lists == null || !lists.isArray() || lists.size() != sizes.size()) {
            throw new UnparseableOutputException("expected \"activations\" with " + sizes.size() + " lists: "
                    + ChatLogprobsSimulator.preview(content));
        }
        List<List<Float>> out = new ArrayList<>();
        for (int w = 0; w < sizes.size(); w++) {
            JsonNode list = lists.get(w);
            if (!list.isArray() || list.size() != sizes.get(w)) {
                throw new UnparseableOutputException("list " + (w + 1) + " has " + (list.isArray() ? list.size() : 0)
                        + " numbers for " + sizes.get(w) + " tokens");
            }
            List<Float> predicted = new ArrayList<>(list.size());
            for (JsonNode n : list) {
                if (!n.isNumber()) {
                    throw new UnparseableOutputException("list " + (w + 1) + " holds a non-number: " + n);
                }
                predicted.add((float) Math.max(0, Math.min(10, n.asDouble())));
            }
            out.add(predicted);
        }
        return out;
    }

    @Override
    public void close() {
        caller.close();
    }
}
