package io.neuronexplainer.producer.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A HuggingFace GPT-2 folder ({@code config.json} + {@code model.safetensors}, or a sharded set:
 * {@code model.safetensors.index.json} and the shard files its weight map names) whose tensors have
 * been checked, names and shapes, against the config before any weight is read. Accepts the
 * names of {@code GPT2LMHeadModel} ({@code transformer.} prefix) and of {@code GPT2Model} (none),
 * and skips the attention-mask buffers and the tied LM head.
 */
public final class Gpt2Checkpoint implements AutoCloseable {
    public static final String WEIGHTS_FILE = "model.safetensors";
    private static final String PREFIX = "transformer.";
    private static final Pattern IGNORED = Pattern.compile("h\\.\\d+\\.attn\\.(bias|masked_bias)|lm_head\\.weight");

    /** Where a weight is: its file and its name in that file. */
    private record Location(SafetensorsFile file, String name) {}

    private final Path folder;
    private final Gpt2Config config;
    private final List<SafetensorsFile> files;
    /** Canonical name (no prefix) to the file and name it is stored under. */
    private final Map<String, Location> names;

    private Gpt2Checkpoint(Path folder, Gpt2Config config, List<SafetensorsFile> files, Map<String, Location> names) {
        this.folder = folder;
        this.config = config;
        this.files = files;
        this.names = names;
    }

    /**
     * Opens {@code folder} and checks every tensor's presence and shape against its config;
     * {@code model.safetensors} is used when present, else the shards of {@code model.safetensors.index.json}.
     */
    public static Gpt2Checkpoint open(Path folder) {
        if (!Files.isDirectory(folder)) {
            throw new ModelLoadException(folder, "model folder not found (expected config.json and model.safetensors)");
        }
        Gpt2Config config = Gpt2Config.read(folder.resolve("config.json"));
        Path weights = folder.resolve(WEIGHTS_FILE);
        Path index = folder.resolve(SafetensorsIndex.FILE_NAME);
        if (!Files.exists(weights) && Files.exists(index)) {
            return openSharded(folder, config, SafetensorsIndex.read(index));
        }
        if (!Files.exists(weights) && Files.exists(folder.resolve("pytorch_model.bin"))) {
            throw new ModelLoadException(weights, "file not found (pytorch_model.bin is not supported: convert it to safetensors)");
        }
        SafetensorsFile file = SafetensorsFile.open(weights);
        try {
            return new Gpt2Checkpoint(folder, config, List.of(file), check(config, List.of(file), weights, null));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static Gpt2Checkpoint openSharded(Path folder, Gpt2Config config, SafetensorsIndex index) {
        // Every shard is looked for before any is opened, so a half-copied set names all it lacks.
        List<String> missing = index.shards().stream().filter(s -> !Files.isRegularFile(index.shardPath(s))).toList();
        if (!missing.isEmpty()) {
            throw new ModelLoadException(index.file(), "shard" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing)
                    + " named in weight_map not found (" + index.shards().size() + " shards expected)");
        }
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            for (String shard : index.shards()) {
                files.add(SafetensorsFile.open(index.shardPath(shard)));
            }
            return new Gpt2Checkpoint(folder, config, List.copyOf(files), check(config, files, index.file(), index));
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
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
        Location location = names.get(canonicalName);
        if (location == null) {
            throw new ModelLoadException(folder, "no weight named " + canonicalName);
        }
        return location.file().floats(location.name());
    }

    /** The safetensors files the weights are read from: one, or every shard. */
    public List<Path> weightFiles() {
        return files.stream().map(SafetensorsFile::path).toList();
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
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

    /**
     * Checks the tensors of {@code files} against the config; {@code source} names the checkpoint in
     * errors about the set as a whole (the single file, or the index). With an index, each weight
     * must be in the shard its weight map names.
     */
    private static Map<String, Location> check(Gpt2Config config, List<SafetensorsFile> files, Path source,
                                               SafetensorsIndex index) {
        Map<String, long[]> expected = expectedShapes(config);
        Map<String, Location> names = new LinkedHashMap<>();
        for (SafetensorsFile file : files) {
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
                Location previous = names.put(canonical, new Location(file, tensor.name()));
                if (previous != null && previous.file() == file) {
                    throw new ModelLoadException(file.path(), "tensor " + canonical + " appears both with and without the transformer. prefix");
                }
                if (previous != null) {
                    throw new ModelLoadException(file.path(), "tensor " + tensor.name() + " is also in shard "
                            + previous.file().path().getFileName());
                }
                if (index != null) {
                    String shard = index.weightMap().get(tensor.name());
                    if (shard != null && !shard.equals(file.path().getFileName().toString())) {
                        throw new ModelLoadException(file.path(), "holds tensor " + tensor.name()
                                + " but weight_map puts it in shard " + shard);
                    }
                }
            }
        }
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            if (!names.containsKey(e.getKey())) {
                String where = "";
                if (index != null) {
                    String shard = index.weightMap().get(e.getKey()) != null ? index.weightMap().get(e.getKey())
                            : index.weightMap().get(PREFIX + e.getKey());
                    where = shard == null ? " in any shard or in weight_map" : " in shard " + shard + ", where weight_map puts it";
                }
                throw new ModelLoadException(source, "missing tensor " + e.getKey() + " " + Arrays.toString(e.getValue())
                        + where + " (config.json says " + config.layers() + " layers)");
            }
        }
        return names;
    }
}
