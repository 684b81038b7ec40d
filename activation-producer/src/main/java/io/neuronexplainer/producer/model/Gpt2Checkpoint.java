package io.neuronexplainer.producer.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A HuggingFace GPT-2 folder ({@code config.json} + {@code model.safetensors}) whose tensors have
 * been checked, names and shapes, against the config before any weight is read. Accepts the
 * names of {@code GPT2LMHeadModel} ({@code transformer.} prefix) and of {@code GPT2Model} (none),
 * and skips the attention-mask buffers and the tied LM head.
 */
public final class Gpt2Checkpoint implements AutoCloseable {
    private static final String PREFIX = "transformer.";
    private static final Pattern IGNORED = Pattern.compile("h\\.\\d+\\.attn\\.(bias|masked_bias)|lm_head\\.weight");

    private final Path folder;
    private final Gpt2Config config;
    private final SafetensorsFile file;
    /** Canonical name (no prefix) to the name in the file. */
    private final Map<String, String> names;

    private Gpt2Checkpoint(Path folder, Gpt2Config config, SafetensorsFile file, Map<String, String> names) {
        this.folder = folder;
        this.config = config;
        this.file = file;
        this.names = names;
    }

    /** Opens {@code folder} and checks every tensor's presence and shape against its config. */
    public static Gpt2Checkpoint open(Path folder) {
        if (!Files.isDirectory(folder)) {
            throw new ModelLoadException(folder, "model folder not found (expected config.json and model.safetensors)");
        }
        Gpt2Config config = Gpt2Config.read(folder.resolve("config.json"));
        Path weights = folder.resolve("model.safetensors");
        if (!Files.exists(weights) && Files.exists(folder.resolve("pytorch_model.bin"))) {
            throw new ModelLoadException(weights, "file not found (pytorch_model.bin is not supported: convert it to safetensors)");
        }
        SafetensorsFile file = SafetensorsFile.open(weights);
        try {
            return new Gpt2Checkpoint(folder, config, file, check(config, file));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    public Path folder() {
        return folder;
    }

    public Gpt2Config config() {
        return config;
    }

    /** A weight by its canonical name ({@code h.0.mlp.c_fc.weight}), as float, in the file's layout. */
    public float[] floats(String canonicalName) {
        return file.floats(names.get(canonicalName));
    }

    @Override
    public void close() {
        file.close();
    }

    /** Every weight a GPT-2 of this config has, canonical name to shape (Conv1D weights are [in, out]). */
    public static Map<String, long[]> expectedShapes(Gpt2Config c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long d = c.embedding();
        shapes.put("wte.weight", new long[] {c.vocabSize(), d});
        shapes.put("wpe.weight", new long[] {c.positions(), d});
        for (int i = 0; i < c.layers(); i++) {
            String h = "h." + i + ".";
            shapes.put(h + "ln_1.weight", new long[] {d});
            shapes.put(h + "ln_1.bias", new long[] {d});
            shapes.put(h + "attn.c_attn.weight", new long[] {d, 3 * d});
            shapes.put(h + "attn.c_attn.bias", new long[] {3 * d});
            shapes.put(h + "attn.c_proj.weight", new long[] {d, d});
            shapes.put(h + "attn.c_proj.bias", new long[] {d});
            shapes.put(h + "ln_2.weight", new long[] {d});
            shapes.put(h + "ln_2.bias", new long[] {d});
            shapes.put(h + "mlp.c_fc.weight", new long[] {d, c.inner()});
            shapes.put(h + "mlp.c_fc.bias", new long[] {c.inner()});
            shapes.put(h + "mlp.c_proj.weight", new long[] {c.inner(), d});
            shapes.put(h + "mlp.c_proj.bias", new long[] {d});
        }
        shapes.put("ln_f.weight", new long[] {d});
        shapes.put("ln_f.bias", new long[] {d});
        return shapes;
    }

    private static Map<String, String> check(Gpt2Config config, SafetensorsFile file) {
        Map<String, long[]> expected = expectedShapes(config);
        Map<String, String> names = new LinkedHashMap<>();
        for (SafetensorsFile.Tensor tensor : file.tensors().values()) {
            String canonical = tensor.name().startsWith(PREFIX) ? tensor.name().substring(PREFIX.length()) : tensor.name();
            if (IGNORED.matcher(canonical).matches()) {
                continue;
            }
            long[] shape = expected.get(canonical);
            if (shape == null) {
                throw new ModelLoadException(file.path(), "unexpected tensor " + tensor.name()
                        + " (not a weight of a GPT-2 with " + config.layers() + " layers, per config.json)");
            }
            if (!Arrays.equals(shape, tensor.shape())) {
                throw new ModelLoadException(file.path(), "tensor " + tensor.name() + " has shape " + tensor.shapeText()
                        + " but config.json (n_layer " + config.layers() + ", n_embd " + config.embedding()
                        + ", n_inner " + config.inner() + ", n_positions " + config.positions() + ", vocab_size "
                        + config.vocabSize() + ") needs " + Arrays.toString(shape));
            }
            if (names.put(canonical, tensor.name()) != null) {
                throw new ModelLoadException(file.path(), "tensor " + canonical + " appears both with and without the transformer. prefix");
            }
        }
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            if (!names.containsKey(e.getKey())) {
                throw new ModelLoadException(file.path(), "missing tensor " + e.getKey() + " " + Arrays.toString(e.getValue())
                        + " (config.json says " + config.layers() + " layers)");
            }
        }
        return names;
    }
}
