package io.neuronexplainer.producer.model;

import static io.neuronexplainer.producer.model.SafetensorsFileTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GPT-2's tokenizer through DJL: exact ids, no truncation, no special tokens, and where it is found. */
class Gpt2TokenizerTest {
    private static Gpt2Tokenizer tokenizer;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        tokenizer = Gpt2Tokenizer.load(DemoModel.tokenizerFile());
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void encodesLikeGpt2WithoutSpecialTokens() {
        assertArrayEquals(new int[] {15496, 995}, tokenizer.encode("Hello world"));
        assertEquals("Hello", tokenizer.tokenText(15496));
        assertEquals(" world", tokenizer.tokenText(995));
        assertEquals(0, tokenizer.encode("").length);
    }

    @Test
    void longTextsAreNeverTruncated() {
        String text = String.join(" ", java.util.Collections.nCopies(200, "the quick brown fox jumps over the lazy dog."));
        int[] ids = tokenizer.encode(text);
        assertEquals(200 * 10, ids.length, "10 tokens per sentence, well past DJL's default cut at 512");
        assertArrayEquals(Arrays.copyOfRange(ids, 10, 20), Arrays.copyOfRange(ids, 1990, 2000));
        StringBuilder back = new StringBuilder();
        for (int id : ids) {
            back.append(tokenizer.tokenText(id));
        }
        assertEquals(text, back.toString());
    }

    @Test
    void aCheckpointFolderUsesItsParentsTokenizer() {
        try (Gpt2Tokenizer found = Gpt2Tokenizer.forModel(DemoModel.finalCheckpoint(), null)) {
            assertEquals(DemoModel.tokenizerFile(), found.file());
        }
        try (Gpt2Tokenizer explicit = Gpt2Tokenizer.forModel(dir, DemoModel.tokenizerFile())) {
            assertTrue(explicit.encode("Hello").length == 1);
        }
    }

    @Test
    void missingTokenizerIsOneLineNamingIt() throws IOException {
        Path model = Files.createDirectories(dir.resolve("lonely/model"));
        assertOneLine(model.resolve("tokenizer.json"), "tokenizer file not found", () -> Gpt2Tokenizer.forModel(model, null));
        Path explicit = dir.resolve("none.json");
        assertOneLine(explicit, "tokenizer file not found", () -> Gpt2Tokenizer.forModel(model, explicit));
        Path broken = Files.writeString(dir.resolve("broken.json"), "{ not json");
        assertOneLine(broken, "not a usable tokenizer.json", () -> Gpt2Tokenizer.load(broken));
    }
}
