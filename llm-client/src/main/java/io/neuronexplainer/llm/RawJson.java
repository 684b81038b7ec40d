package io.neuronexplainer.llm;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.io.NumberInput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.openai.core.http.HttpResponse;
import com.openai.errors.OpenAIIoException;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

/**
 * An answer's body read as a plain JSON tree or as a stream of JSON tokens, for answers too big
 * for the SDK's typed model (a stream for the longest, whose tree costs more than what is read).
 *
 * <p>The SDK turns a body into a tree, walks the tree again into Kotlin objects and validates
 * them; for a simulation with logprobs (hundreds of tokens with 20 candidates each) that cost
 * ~100 ms of CPU per neuron, most of the simulator's time. Through {@code withRawResponse()}
 * the SDK still builds the request and turns HTTP errors into its exceptions (so retries and
 * Retry-After work as for any call); only the successful body is read here, once.
 */
public final class RawJson {
    /**
     * Jackson interns field names by default (String.intern behind a small cache it clears when
     * full), which costs more than it saves on answers this size; its fast double parser reads the
     * logprobs.
     */
    private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build()).build();
    /**
     * For answers keyed by token text (the completions endpoint's top_logprobs maps): names that
     * hardly repeat filled and rehashed the symbol table Jackson keeps of field names on every answer
     * (with interning, a third of the simulator's client CPU with completions-echo). Without that
     * table Jackson reads through a char decoder, slower for answers whose names repeat.
     */
    private static final JsonFactory TOKEN_KEYED = JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build();

    private RawJson() {}

    /** One pass of a streaming parser over an answer, for a caller that keeps a few figures of it. */
    @FunctionalInterface
    public interface StreamReader<T> {
        T read(JsonParser parser) throws IOException;
    }

    /** Reads the object the parser is at (its START_OBJECT), to its end. */
    @FunctionalInterface
    public interface ObjectReader {
        void read(JsonParser parser) throws IOException;
    }

    /** What a streamed answer holds besides its first choice: how many choices (-1 when not a list), and its usage. */
    public record Choices(int count, TokenUsage usage) {}

    /** The response's body as JSON; a body that is not JSON is unusable output, retried like any. */
    public static JsonNode read(HttpResponse response) {
        return read(response, JSON::readTree);
    }

    /**
     * Hands an answer to {@code reader} as a stream of tokens, for an answer whose field names are
     * mostly token texts, each seen once or twice (completions' top_logprobs maps): no tree is
     * built, as an echoed prompt's tree cost the client more than everything it reads from it.
     * The body is read on the calling (HTTP) thread and parsed on {@link AnswerParsers}.
     */
    public static <T> CompletableFuture<T> streamTokenKeyed(HttpResponse response, StreamReader<T> reader) {
        return AnswerParsers.parse(bytes(response), body -> mapped(() -> parse(TOKEN_KEYED, body, reader)));
    }

    /** As {@link #streamTokenKeyed}, for answers whose field names repeat (chat logprobs). */
    public static <T> CompletableFuture<T> stream(HttpResponse response, StreamReader<T> reader) {
        return AnswerParsers.parse(bytes(response), body -> mapped(() -> parse(JSON.getFactory(), body, reader)));
    }

    /** The body's bytes, the response closed. */
    private static byte[] bytes(HttpResponse response) {
        return read(response, InputStream::readAllBytes);
    }

    /**
     * Walks a whole answer (the parser at its start), handing its first choice to {@code firstChoice}
     * if it is an object and reading its usage as {@link #usage(JsonNode)} does; the rest is skipped.
     */
    public static Choices firstChoice(JsonParser p, ObjectReader firstChoice) throws IOException {
        int count = -1;
        TokenUsage usage = TokenUsage.NONE;
        if (p.nextToken() != JsonToken.START_OBJECT) {
            p.skipChildren();
            return new Choices(count, usage);
        }
        for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
            JsonToken t = p.nextToken();
            if (name.equals("choices") && t == JsonToken.START_ARRAY) {
                count = 0;
                for (t = p.nextToken(); t != JsonToken.END_ARRAY && t != null; t = p.nextToken()) {
                    if (count++ == 0 && t == JsonToken.START_OBJECT) {
                        firstChoice.read(p);
                    } else {
                        p.skipChildren();
                    }
                }
            } else if (name.equals("usage") && t == JsonToken.START_OBJECT) {
                usage = usage(p);
            } else {
                p.skipChildren();
            }
        }
        return new Choices(count, usage);
    }

    /** Reads a {@code usage} object the parser is at (its START_OBJECT) as {@link #usage(JsonNode)} reads it from a tree. */
    public static TokenUsage usage(JsonParser p) throws IOException {
        int prompt = 0;
        int completion = 0;
        for (String name = p.nextFieldName(); name != null; name = p.nextFieldName()) {
            p.nextToken();
            switch (name) {
                case "prompt_tokens" -> prompt = asInt(p);
                case "completion_tokens" -> completion = asInt(p);
                default -> p.skipChildren();
            }
        }
        return new TokenUsage(prompt, completion);
    }

    /** The value the parser is at as JsonNode.asInt(0) reads it: a number truncated, a numeric text parsed, else 0. */
    private static int asInt(JsonParser p) throws IOException {
        return switch (p.currentToken()) {
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> p.getNumberValue().intValue();
            case VALUE_STRING -> NumberInput.parseAsInt(p.getText(), 0);
            case VALUE_TRUE -> 1;
            default -> {
                p.skipChildren();
                yield 0;
            }
        };
    }

    private static <T> T parse(JsonFactory factory, byte[] body, StreamReader<T> reader) throws IOException {
        try (JsonParser parser = factory.createParser(body)) {
            return reader.read(parser);
        }
    }

    /** Reads the body once, closing the response, its errors mapped as {@link #mapped} says. */
    private static <T> T read(HttpResponse response, BodyReader<T> reader) {
        return mapped(() -> {
            try (response) {
                return reader.read(response.body());
            }
        });
    }

    /** Jackson's errors are unusable output, the rest (reading a body) I/O errors: both retried. */
    private static <T> T mapped(IoCall<T> call) {
        try {
            return call.run();
        } catch (JacksonException e) {
            throw new UnparseableOutputException("the server's answer is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            // As the SDK reports a failed read: an I/O error, retried.
            throw new OpenAIIoException("reading the answer failed: " + e.getMessage(), e);
        }
    }

    @FunctionalInterface
    private interface IoCall<T> {
        T run() throws IOException;
    }

    @FunctionalInterface
    private interface BodyReader<T> {
        T read(InputStream body) throws IOException;
    }

    /** prompt_tokens and completion_tokens of the answer's {@code usage}, or none. */
    public static TokenUsage usage(JsonNode answer) {
        JsonNode u = answer.path("usage");
        if (!u.isObject()) {
            return TokenUsage.NONE;
        }
        return new TokenUsage(u.path("prompt_tokens").asInt(0), u.path("completion_tokens").asInt(0));
    }
}
