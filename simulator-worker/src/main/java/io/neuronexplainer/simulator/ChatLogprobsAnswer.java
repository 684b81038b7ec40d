package io.neuronexplainer.simulator;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
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
 * What {@link ChatLogprobsSimulator} reads from a chat completion with logprobs: the first
 * choice's message content, its logprob tokens, and at each token the {@link ExpectedActivation}
 * over its candidates (the token itself when it has none), with the answer's usage.
 *
 * <p>Read in one streaming pass rather than as a JSON tree: a rewritten block is a logprobs entry
 * with its candidates per token, of which the simulator needs the numbers only; building the tree
 * and walking it was most of the simulator's CPU.
 *
 * @param choices  the number of choices, -1 when {@code choices} is not a list
 * @param content  the first choice's message content, "" when it has none
 * @param tokens   the logprob tokens' texts ("" for one that is not a string); empty when the answer has no logprobs list
 * @param expected per token, the expected activation over its number candidates, NaN when none
 */
record ChatLogprobsAnswer(int choices, String content, List<String> tokens, double[] expected, TokenUsage usage) {

    /** Reads a whole answer; the parser is at its start. */
    static ChatLogprobsAnswer read(JsonParser p) throws IOException {
        Builder b = new Builder();
        RawJson.Choices choices = RawJson.firstChoice(p, c -> choice(c, b));
        b.choices = choices.count();
        b.usage = choices.usage();
        return b.build();
    }

    private static void choice(JsonParser p, Builder b) throws IOException {
        for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
            JsonToken t = p.nextToken();
            if (name.equals("message") && t == JsonToken.START_OBJECT) {
                for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
                    JsonToken v = p.nextToken();
                    if (field.equals("content")) {
                        b.content = text(p, v);
                    } else {
                        p.skipChildren();
                    }
                }
            } else if (name.equals("logprobs") && t == JsonToken.START_OBJECT) {
                for (String field = p.nextFieldName(); field != null; field = p.nextFieldName()) {
                    JsonToken v = p.nextToken();
                    if (field.equals("content") && v == JsonToken.START_ARRAY) {
                        logprobs(p, b);
                    } else {
                        p.skipChildren();
                    }
                }
            } else {
                p.skipChildren();
            }
        }
    }

    private static void logprobs(JsonParser p, Builder b) throws IOException {
        List<String> tokens = new ArrayList<>();
        double[] expected = new double[256];
        Token token = new Token();
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY && t != null; t = p.nextToken()) {
            token.clear();
            if (t == JsonToken.START_OBJECT) {
                token.read(p);
            } else {
                p.skipChildren();
            }
            if (tokens.size() == expected.length) {
                expected = Arrays.copyOf(expected, 2 * expected.length);
            }
            expected[tokens.size()] = token.expected();
            tokens.add(token.text);
        }
        b.tokens = tokens;
        b.expected = Arrays.copyOf(expected, tokens.size());
    }

    /** A value as JsonNode.asText("") gives it: a string's text, a number's or boolean's spelling, else "". */
    private static String text(JsonParser p, JsonToken t) throws IOException {
        if (t == null) {
            return "";
        }
        return switch (t) {
            case VALUE_STRING, VALUE_TRUE, VALUE_FALSE -> p.getText();
            // A tree spells a number as Java does (1e2 as 100.0), not as the answer did.
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> String.valueOf(p.getNumberValue());
            default -> {
                p.skipChildren();
                yield "";
            }
        };
    }

    private static boolean isNumber(JsonToken t) {
        return t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT;
    }

    /** One logprobs entry: its token, its own logprob and its candidates' number spellings (the best logprob of each). */
    private static final class Token {
        String text;
        String token;
        double logprob;
        boolean hasLogprob;
        boolean anyCandidate;
        Map<String, Double> numbers;

        void clear() {
            text = "";
            token = null;
            hasLogprob = false;
            anyCandidate = false;
            numbers = null;
        }

        void read(JsonParser p) throws IOException {
            for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
                JsonToken t = p.nextToken();
                switch (name) {
                    case "token" -> {
                        text = text(p, t);
                        token = t == JsonToken.VALUE_STRING ? text : null;
                    }
                    case "logprob" -> {
                        hasLogprob = isNumber(t);
                        if (hasLogprob) {
                            logprob = p.getDoubleValue();
                        } else {
                            p.skipChildren();
                        }
                    }
                    case "top_logprobs" -> {
                        if (t == JsonToken.START_ARRAY) {
                            for (JsonToken c = p.nextToken(); c != JsonToken.END_ARRAY && c != null; c = p.nextToken()) {
                                candidate(p, c);
                            }
                        } else if (t == JsonToken.START_OBJECT) {
                            // A tree iterates an object's values: each is a candidate.
                            for (String ignored = p.nextFieldName(); ignored != null; ignored = p.nextFieldName()) {
                                candidate(p, p.nextToken());
                            }
                        } else {
                            p.skipChildren();
                        }
                    }
                    default -> p.skipChildren();
                }
            }
        }

        private void candidate(JsonParser p, JsonToken start) throws IOException {
            if (start != JsonToken.START_OBJECT) {
                p.skipChildren();
                return;
            }
            String candidate = null;
            boolean textual = false;
            double value = 0;
            boolean number = false;
            for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
                JsonToken t = p.nextToken();
                if (name.equals("token")) {
                    textual = t == JsonToken.VALUE_STRING;
                    candidate = textual ? p.getText() : null;
                    p.skipChildren();
                } else if (name.equals("logprob")) {
                    number = isNumber(t);
                    value = number ? p.getDoubleValue() : 0;
                    p.skipChildren();
                } else {
                    p.skipChildren();
                }
            }
            if (!textual || !number) {
                return;
            }
            anyCandidate = true;
            if (ExpectedActivation.digit(candidate) >= 0) {
                if (numbers == null) {
                    numbers = new HashMap<>();
                }
                numbers.merge(candidate, value, Math::max);
            }
        }

        /** NaN when no number is among the candidates (or, with none, the token itself is no number). */
        double expected() {
            Map<String, Double> m = numbers;
            if (!anyCandidate && token != null && hasLogprob && ExpectedActivation.digit(token) >= 0) {
                m = Map.of(token, logprob);
            }
            if (m == null) {
                return Double.NaN;
            }
            OptionalDouble v = ExpectedActivation.of(m);
            return v.isPresent() ? v.getAsDouble() : Double.NaN;
        }
    }

    private static final class Builder {
        int choices = -1;
        String content = "";
        List<String> tokens = List.of();
        double[] expected = new double[0];
        TokenUsage usage = TokenUsage.NONE;

        ChatLogprobsAnswer build() {
            return new ChatLogprobsAnswer(choices, content, tokens, expected, usage);
        }
    }
}
