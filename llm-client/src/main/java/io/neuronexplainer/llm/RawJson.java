package io.neuronexplainer.llm;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.openai.core.http.HttpResponse;
import com.openai.errors.OpenAIIoException;
import java.io.IOException;

/**
 * An answer's body read as a plain JSON tree, for answers too big for the SDK's typed model.
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
    private static final ObjectMapper TOKEN_KEYED = JsonMapper.builder(JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
            .build()).build();

    private RawJson() {}

    /** The response's body as JSON; a body that is not JSON is unusable output, retried like any. */
    public static JsonNode read(HttpResponse response) {
        return read(JSON, response);
    }

    /** As {@link #read}, for an answer whose field names are mostly token texts, each seen once or twice. */
    public static JsonNode readTokenKeyed(HttpResponse response) {
        return read(TOKEN_KEYED, response);
    }

    private static JsonNode read(ObjectMapper mapper, HttpResponse response) {
        try (response) {
            return mapper.readTree(response.body());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new UnparseableOutputException("the server's answer is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            // As the SDK reports a failed read: an I/O error, retried.
            throw new OpenAIIoException("reading the answer failed: " + e.getMessage(), e);
        }
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
