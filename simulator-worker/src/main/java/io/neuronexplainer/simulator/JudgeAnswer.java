package io.neuronexplainer.simulator;

import com.fasterxml.jackson.databind.JsonNode;
import io.neuronexplainer.llm.UnparseableOutputException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A chat judge's answer read back: the last {@code [...]} list of its content, one 0 or 1 per
 * excerpt, and, when the answer carries logprobs, each answer's probability of 1 from the
 * candidates where it was written. An answer of the wrong form is {@link UnparseableOutputException}
 * (retried by the caller, then a dead letter).
 *
 * @param saysYes one per excerpt, in order
 * @param yesProbability one per excerpt, or all null when the answer's logprobs cannot be lined up with it
 */
public record JudgeAnswer(List<Boolean> saysYes, List<Double> yesProbability) {
    private static final Pattern LIST = Pattern.compile("\\[([^\\[\\]]*)\\]");

    /** Reads {@code completion}, a chat completion answering {@code count} excerpts. */
    public static JudgeAnswer read(JsonNode completion, int count) {
        JsonNode choices = completion.path("choices");
        if (!choices.isArray() || choices.isEmpty()) {
            throw new UnparseableOutputException("no choices in the chat completion");
        }
        JsonNode choice = choices.get(0);
        String content = choice.path("message").path("content").asText("");
        int[] span = lastList(content);
        if (span == null) {
            throw new UnparseableOutputException("no [...] list of 0s and 1s in the answer: " + ChatLogprobsSimulator.preview(content));
        }
        List<Boolean> says = new ArrayList<>(count);
        String inside = content.substring(span[0], span[1]).strip();
        if (!inside.isEmpty()) {
            for (String entry : inside.split(",", -1)) {
                switch (entry.strip()) {
                    case "1" -> says.add(true);
                    case "0" -> says.add(false);
                    default -> throw new UnparseableOutputException("the answer's list holds '" + entry.strip()
                            + "', not 0 or 1: " + ChatLogprobsSimulator.preview(content));
                }
            }
        }
        if (says.size() != count) {
            throw new UnparseableOutputException("the answer's list has " + says.size() + " entries for " + count
                    + " excerpts: " + ChatLogprobsSimulator.preview(content));
        }
        return new JudgeAnswer(says, probabilities(choice.path("logprobs").path("content"), count));
    }

    /** Where the content of the text's last {@code [...]} list starts and ends, or null. */
    private static int[] lastList(String text) {
        Matcher m = LIST.matcher(text);
        int[] span = null;
        while (m.find()) {
            span = new int[] {m.start(1), m.end(1)};
        }
        return span;
    }

    /**
     * Per answer, p("1") / (p("0") + p("1")) among the top_logprobs where the k-th 0 or 1 of the
     * answer's last list was written, every spelling that strips to "0" or "1" counted (" 1" and
     * "1" are different tokens of the same answer); one of them missing counts as probability 0,
     * both missing leaves the written answer (1.0 or 0.0). All null when there are no logprobs
     * or their 0s and 1s do not number {@code count} (a tokenizer that writes "1," as one token).
     */
    static List<Double> probabilities(JsonNode logprobs, int count) {
        List<Double> none = new ArrayList<>(java.util.Collections.nCopies(count, (Double) null));
        if (!logprobs.isArray() || logprobs.isEmpty()) {
            return none;
        }
        StringBuilder text = new StringBuilder();
        int[] starts = new int[logprobs.size()];
        for (int i = 0; i < logprobs.size(); i++) {
            starts[i] = text.length();
            text.append(logprobs.get(i).path("token").asText(""));
        }
        int[] span = lastList(text.toString());
        if (span == null) {
            return none;
        }
        List<Double> out = new ArrayList<>(count);
        for (int i = 0; i < logprobs.size(); i++) {
            JsonNode at = logprobs.get(i);
            String written = at.path("token").asText("").strip();
            if (starts[i] < span[0] || starts[i] >= span[1] || !(written.equals("0") || written.equals("1"))) {
                continue;
            }
            double p0 = 0;
            double p1 = 0;
            for (JsonNode c : at.path("top_logprobs")) {
                if (!c.path("logprob").isNumber()) {
                    continue;
                }
                switch (c.path("token").asText("").strip()) {
                    case "0" -> p0 += Math.exp(c.path("logprob").asDouble());
                    case "1" -> p1 += Math.exp(c.path("logprob").asDouble());
                    default -> { }
                }
            }
            out.add(p0 + p1 > 0 ? p1 / (p0 + p1) : written.equals("1") ? 1.0 : 0.0);
        }
        return out.size() == count ? out : none;
    }
}
