package io.neuronexplainer.producer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The shape of a GPT-2 model, as a HuggingFace {@code config.json} gives it. */
public record Gpt2Config(int layers, int heads, int embedding, int inner, int positions, int vocabSize,
                         double layerNormEpsilon, boolean scaleAttentionWeights,
                         boolean scaleAttentionByInverseLayer) {

    public Gpt2Config {
        if (layers <= 0 || heads <= 0 || embedding <= 0 || inner <= 0 || positions <= 0 || vocabSize <= 0) {
            throw new IllegalArgumentException("GPT-2 sizes must be positive: " + this);
        }
        if (embedding % heads != 0) {
            throw new IllegalArgumentException("n_embd " + embedding + " is not a multiple of n_head " + heads);
        }
    }

    /** OpenAI's GPT-2 small: 12 layers, 768 wide, 12 heads, MLP 3,072, context 1,024. */
    public static Gpt2Config gpt2Small() {
        return new Gpt2Config(12, 12, 768, 3072, 1024, 50257, 1e-5, true, false);
    }

    public int headSize() {
        return embedding / heads;
    }

    /** Reads {@code config.json}; the activation must be {@code gelu_new}, GPT-2's own. */
    public static Gpt2Config read(Path file) {
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file, "file not found");
        } catch (IOException e) {
            throw new ModelLoadException(file, "not a readable JSON config: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (json == null || !json.isObject()) {
            throw new ModelLoadException(file, "not a JSON object");
        }
        String activation = json.path("activation_function").asText("gelu_new");
        if (!activation.equals("gelu_new")) {
            throw new ModelLoadException(file, "activation_function is " + activation + ", only gelu_new (GPT-2's) is supported");
        }
        int embedding = required(file, json, "n_embd");
        JsonNode inner = json.get("n_inner");
        try {
            return new Gpt2Config(
                    required(file, json, "n_layer"),
                    required(file, json, "n_head"),
                    embedding,
                    inner == null || inner.isNull() ? 4 * embedding : inner.asInt(),
                    required(file, json, "n_positions"),
                    required(file, json, "vocab_size"),
                    json.path("layer_norm_epsilon").asDouble(1e-5),
                    json.path("scale_attn_weights").asBoolean(true),
                    json.path("scale_attn_by_inverse_layer_idx").asBoolean(false));
        } catch (ModelLoadException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file, e.getMessage());
        }
    }

    private static int required(Path file, JsonNode json, String field) {
        JsonNode value = json.get(field);
        if (value == null || !value.canConvertToInt()) {
            throw new ModelLoadException(file, "needs an integer " + field);
        }
        return value.asInt();
    }

    /**
     * Model FLOPs per token of a forward pass through the first {@code layersComputed} layers on
     * windows of {@code tokensPerWindow} tokens: 2 x (multiply-adds) of the matmuls, i.e.
     * 2 x (QKV d x 3d + attention output d x d + MLP 2 x d x inner) per layer, plus the attention
     * scores (QK^T) and the weighted sum of values, 2 x 2 x tokens x d per token per layer (the
     * full T x T product, as computed, masked half included). Embeddings, layer norms, GELU,
     * softmax and the LM head (never computed here) are not counted, nor is the last layer's MLP
     * output projection (inner x d), which the pass skips: only the layer's MLP activations are
     * captured, and nothing reads its output.
     */
    public double flopsPerToken(int tokensPerWindow, int layersComputed) {
        if (layersComputed <= 0) {
            return 0;
        }
        double matmuls = 2.0 * ((double) embedding * 3 * embedding + (double) embedding * embedding
                + 2.0 * embedding * inner);
        double attention = 2.0 * 2.0 * tokensPerWindow * embedding;
        return layersComputed * (matmuls + attention) - 2.0 * inner * embedding;
    }
}
