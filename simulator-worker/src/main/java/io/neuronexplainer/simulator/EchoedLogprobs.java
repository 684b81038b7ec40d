package io.neuronexplainer.simulator;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.NumberInput;
import io.neuronexplainer.llm.RawJson;
import io.neuronexplainer.llm.TokenUsage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * What {@link CompletionsEchoSimulator} reads from a completions answer with the prompt echoed:
 * {@code choices[0].logprobs}'s tokens and text offsets, and at each position whether it has
 * top logprobs and their {@link ExpectedActivation}, with the answer's usage.
 *
 * <p>Read in one streaming pass rather than as a JSON tree: an echoed prompt is a map of candidates
 * per token (hundreds a call, ten calls a neuron with the paper's one window per call) of which the
 * simulator reads the few at its unknowns; building the tree was the simulator's largest cost.
 *
 * @param choices    the number of choices, -1 when {@code choices} is not a list
 * @param hasLogprobs whether the first choice's {@code logprobs} is an object
 * @param tokens     the echoed tokens (null for a token that is not a string), or null when not a list
 * @param textOffset each token's start in the prompt, or null when the answer has no such list
 * @param topIsObject per position, whether its {@code top_logprobs} entry is an object, or null when
 *                   {@code top_logprobs} is not a list
 * @param expected   per position, the expected activation over its number candidates, NaN when none
 */
record EchoedLogprobs(int choices, boolean hasLogprobs, List<String> tokens, long[] textOffset,
                      boolean[] topIsObject, double[] expected, TokenUsage usage) {

    /** Reads a whole answer; the parser is at its start. */
    static EchoedLogprobs read(JsonParser p) throws IOException {
        Builder b = new Builder();
        RawJson.Choices choices = RawJson.firstChoice(p, c -> choice(c, b));
        b.choices = choices.count();
        b.usage = choices.usage();
        return b.build();
    }

    private static void choice(JsonParser p, Builder b) throws IOException {
        for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
            JsonToken t = p.nextToken();
            if (name.equals("logprobs") && t == JsonToken.START_OBJECT) {
                b.hasLogprobs = true;
                logprobs(p, b);
            } else {
                p.skipChildren();
            }
        }
    }

    private static void logprobs(JsonParser p, Builder b) throws IOException {
        for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_ARRAY) {
                p.skipChildren();
                continue;
            }
            switch (name) {
                case "tokens" -> {
                    b.tokens = new ArrayList<>();
                    for (t = p.nextToken(); t != JsonToken.END_ARRAY && t != null; t = p.nextToken()) {
                        b.tokens.add(t == JsonToken.VALUE_STRING ? p.getText() : null);
                        p.skipChildren();
                    }
                }
                case "text_offset" -> {
                    long[] offsets = new long[64];
                    int n = 0;
                    for (t = p.nextToken(); t != JsonToken.END_ARRAY && t != null; t = p.nextToken()) {
                        if (n == offsets.length) {
                            offsets = Arrays.copyOf(offsets, 2 * n);
                        }
                        offsets[n++] = asLong(p, t);
                    }
                    b.textOffset = Arrays.copyOf(offsets, n);
                }
                case "top_logprobs" -> {
                    boolean[] objects = new boolean[64];
                    double[] expected = new double[64];
                    int n = 0;
                    for (t = p.nextToken(); t != JsonToken.END_ARRAY && t != null; t = p.nextToken(), n++) {
                        if (n == objects.length) {
                            objects = Arrays.copyOf(objects, 2 * n);
                            expected = Arrays.copyOf(expected, 2 * n);
                        }
                        objects[n] = t == JsonToken.START_OBJECT;
                        expected[n] = objects[n] ? candidates(p) : Double.NaN;
                        if (!objects[n]) {
                            p.skipChildren();
                        }
                    }
                    b.topIsObject = Arrays.copyOf(objects, n);
                    b.expected = Arrays.copyOf(expected, n);
                }
                default -> p.skipChildren();
            }
        }
    }

    /**
     * One position's candidates (token to logprob), of which only the numbers count: the expected
     * activation over them, NaN when none. A later repeat of a token replaces the earlier, as in a tree.
     */
    private static double candidates(JsonParser p) throws IOException {
        Map<String, Double> numbers = null;
        for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
            JsonToken t = p.nextToken();
            boolean number = t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT;
            if (ExpectedActivation.digit(name) >= 0) {
                if (numbers == null) {
                    numbers = new HashMap<>();
                }
                if (number) {
                    numbers.put(name, p.getDoubleValue());
                } else {
                    numbers.remove(name);
                }
            }
            p.skipChildren();
        }
        if (numbers == null) {
            return Double.NaN;
        }
        OptionalDouble v = ExpectedActivation.of(numbers);
        return v.isPresent() ? v.getAsDouble() : Double.NaN;
    }

    /** As JsonNode.asLong(): a number truncated, a numeric text parsed, true 1, anything else 0. */
    private static long asLong(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> p.getNumberValue().longValue();
            case VALUE_STRING -> NumberInput.parseAsLong(p.getText(), 0);
            case VALUE_TRUE -> 1;
            default -> {
                p.skipChildren();
                yield 0;
            }
        };
    }

    private static final class Builder {
        int choices = -1;
        boolean hasLogprobs;
        List<String> tokens;
        long[] textOffset;
        boolean[] topIsObject;
        double[] expected;
        TokenUsage usage = TokenUsage.NONE;

        EchoedLogprobs build() {
            return new EchoedLogprobs(choices, hasLogprobs, tokens, textOffset, topIsObject, expected, usage);
        }
    }
}
