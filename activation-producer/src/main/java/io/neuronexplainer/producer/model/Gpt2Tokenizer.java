package io.neuronexplainer.producer.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * GPT-2's byte-level BPE from a HuggingFace {@code tokenizer.json}, through DJL's binding of the
 * tokenizers library: no truncation (DJL's default cuts at 512 tokens without a word), no
 * special tokens added.
 */
public final class Gpt2Tokenizer implements TextTokenizer {
    public static final String FILE_NAME = "tokenizer.json";

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final ConcurrentHashMap<Integer, String> tokenTexts = new ConcurrentHashMap<>();

    private Gpt2Tokenizer(Path file, HuggingFaceTokenizer tokenizer) {
        this.file = file;
        this.tokenizer = tokenizer;
    }

    /** Loads {@code tokenizer.json}. */
    public static Gpt2Tokenizer load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException(file, "tokenizer file not found");
        }
        try {
            return new Gpt2Tokenizer(file, HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build());
        } catch (IOException | RuntimeException e) {
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            throw new ModelLoadException(file, "not a usable tokenizer.json: " + reason, e);
        }
    }

    /**
     * The tokenizer for a model folder: {@code explicit} when given, else the folder's
     * {@code tokenizer.json}, else its parent's (checkpoints of one model share a tokenizer).
     */
    public static Gpt2Tokenizer forModel(Path modelFolder, Path explicit) {
        if (explicit != null) {
            return load(explicit);
        }
        Path own = modelFolder.resolve(FILE_NAME);
        if (Files.isRegularFile(own)) {
            return load(own);
        }
        Path parent = modelFolder.toAbsolutePath().normalize().getParent();
        if (parent != null && Files.isRegularFile(parent.resolve(FILE_NAME))) {
            return load(parent.resolve(FILE_NAME));
        }
        throw new ModelLoadException(own, "tokenizer file not found (nor in the parent folder); give --tokenizer FILE");
    }

    public Path file() {
        return file;
    }

    @Override
    public int[] encode(String text) {
        Encoding encoding = tokenizer.encode(text, false, false);
        long[] ids = encoding.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String tokenText(int id) {
        // A token holding part of a multi-byte character decodes to U+FFFD, as in HuggingFace.
        return tokenTexts.computeIfAbsent(id, k -> tokenizer.decode(new long[] {k}, false));
    }

    /** One native call for all the ids not decoded yet: a call per token cost ~0.1-0.3 ms each. */
    @Override
    public String[] tokenTexts(int[] ids) {
        long[][] missing = java.util.Arrays.stream(ids).filter(id -> !tokenTexts.containsKey(id)).distinct()
                .mapToObj(id -> new long[] {id}).toArray(long[][]::new);
        if (missing.length > 0) {
            String[] decoded = tokenizer.batchDecode(missing, false);
            for (int i = 0; i < missing.length; i++) {
                tokenTexts.putIfAbsent((int) missing[i][0], decoded[i]);
            }
        }
        String[] texts = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            texts[i] = tokenText(ids[i]);
        }
        return texts;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
