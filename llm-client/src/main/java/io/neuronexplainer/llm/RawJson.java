package io.neuronexplainer.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
    private static final ObjectMapper JSON = new ObjectMapper();

    private RawJson() {}

    /** The response's body as JSON; a body that is not JSON is unusable output, retried like any. */
    public static JsonNode read(HttpResponse response) {
        try (response) {
            return JSON.readTree(response.body());
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
