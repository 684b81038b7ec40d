package io.neuronexplainer.simulator;

import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.llm.ChatTurn;
import io.neuronexplainer.llm.ChatTurns;
import io.neuronexplainer.llm.LlmCaller;
import io.neuronexplainer.llm.LlmSettings;
import io.neuronexplainer.llm.RawJson;
import io.neuronexplainer.llm.UnparseableOutputException;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Simulation for chat endpoints that do not echo the prompt: the model rewrites the neuron's
 * blocks with a number in place of each {@code unknown}, and the prediction at each token is
 * the expected value over the "0".."10" candidates in {@code top_logprobs} where that number
 * was written (the written number itself when the server sends no candidates).
 */
public final class ChatLogprobsSimulator implements Simulator {
    public static final String METHOD = "chat-logprobs/" + SimulatorPrompt.VERSION;
    /** The most top_logprobs OpenAI's chat endpoint allows; 11 numbers fit in it. */
    static final long TOP_LOGPROBS = 20;
    private static final String START = "<start>";
    private static final String END = "<end>";
    private static final Pattern VALUE = Pattern.compile("\t[ ]*(\\d+(?:\\.\\d+)?)[ ]*(?=\r?\n|$)");

    private final LlmCaller caller;

    public ChatLogprobsSimulator(LlmSettings settings, MeterRegistry meters) {
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

    static String instruction(SimulatorPrompt prompt) {
        return "\n\nFill in the activations of neuron " + prompt.targetNeuron() + ": repeat its blocks exactly, "
                + "from <start> to <end>, with the same tokens, one per line, replacing each \"unknown\" by "
                + "your predicted activation, an integer from 0 to 10. Write nothing else.";
    }

    /** The messages a simulation of {@code request} sends: the prompt's chat layout, ending with the instruction. */
    public static List<ChatTurn> turns(SimulationRequest request) {
        SimulatorPrompt prompt = SimulatorPrompt.of(request);
        return prompt.chatMessages(instruction(prompt));
    }

    @Override
    public CompletableFuture<SimulatorResult> simulate(SimulationRequest request) {
        List<ChatTurn> turns;
        try {
            turns = turns(request);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        ChatCompletionCreateParams params = ChatTurns.addTo(ChatCompletionCreateParams.builder(), turns)
                .model(model())
                .logprobs(true)
                .topLogprobs(TOP_LOGPROBS)
                .temperature(0.0)
                .build();
        List<Integer> sizes = sizes(request);
        // The raw answer, read as a stream: the SDK's typed model of a logprobs answer costs ten
        // times the rest of the simulation (see RawJson), and a tree most of it (see ChatLogprobsAnswer).
        return caller.call(client -> client.chat().completions().withRawResponse().create(params)
                                .thenCompose(r -> RawJson.stream(r, ChatLogprobsAnswer::read)),
                        ChatLogprobsAnswer::usage, c -> read(sizes, c))
                .thenApply(a -> new SimulatorResult(a.value(), a.usage().promptTokens(), a.usage().completionTokens()));
    }

    static List<Integer> sizes(SimulationRequest request) {
        List<Integer> sizes = new ArrayList<>();
        for (TokenWindow w : request.getWindows()) {
            sizes.add(w.getTokens().size());
        }
        return sizes;
    }

    static List<List<Float>> read(List<Integer> sizes, ChatLogprobsAnswer completion) {
        if (completion.choices() <= 0) {
            throw new UnparseableOutputException("no choices in the chat completion");
        }
        List<String> tokens = completion.tokens();
        int count = tokens.size();
        // The answer's text and where each logprob token starts in it.
        String text;
        long[] starts = new long[count];
        if (count > 0) {
            int length = 0;
            for (String t : tokens) {
                length += t.length();
            }
            StringBuilder sb = new StringBuilder(length);
            for (int i = 0; i < count; i++) {
                starts[i] = sb.length();
                sb.append(tokens.get(i));
            }
            text = sb.toString();
        } else {
            text = completion.content();
        }
        List<List<Float>> out = new ArrayList<>();
        // The model may repeat the few-shot blocks too: the neuron's are the last ones.
        List<int[]> blocks = blocks(text);
        if (blocks.size() < sizes.size()) {
            throw new UnparseableOutputException("expected " + sizes.size() + " <start>...<end> blocks, got "
                    + blocks.size() + ": " + preview(text));
        }
        blocks = blocks.subList(blocks.size() - sizes.size(), blocks.size());
        for (int w = 0; w < sizes.size(); w++) {
            int[] b = blocks.get(w);
            Matcher value = VALUE.matcher(text).region(b[0], b[1]);
            List<Float> predicted = new ArrayList<>();
            while (value.find()) {
                double written = Double.parseDouble(value.group(1));
                double expected = Double.NaN;
                if (count > 0) {
                    int i = CompletionsEchoSimulator.tokenAt(starts, value.start(1));
                    if (i >= 0) {
                        expected = completion.expected()[i];
                    }
                }
                predicted.add((float) Math.max(0, Math.min(10, Double.isNaN(expected) ? written : expected)));
            }
            if (predicted.size() != sizes.get(w)) {
                throw new UnparseableOutputException("block " + (w + 1) + " has " + predicted.size()
                        + " numbers for " + sizes.get(w) + " tokens");
            }
            out.add(predicted);
        }
        return out;
    }

    /**
     * Each {@code <start>...<end>} block's inside, in order: what the regex {@code <start>(.*?)<end>}
     * finds, by indexOf (the regex's reluctant scan over a long answer cost more than reading it).
     */
    static List<int[]> blocks(String text) {
        List<int[]> blocks = new ArrayList<>();
        int from = 0;
        while (true) {
            int start = text.indexOf(START, from);
            int end = start < 0 ? -1 : text.indexOf(END, start + START.length());
            if (end < 0) {
                return blocks;
            }
            blocks.add(new int[] {start + START.length(), end});
            from = end + END.length();
        }
    }

    static String preview(String text) {
        String one = text.replaceAll("\\s+", " ").trim();
        return one.length() > 120 ? one.substring(0, 120) + "..." : one;
    }

    @Override
    public void close() {
        caller.close();
    }
}
