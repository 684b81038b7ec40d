package io.neuronexplainer.producer.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each corpus source streams its documents, and bad input fails in one line naming the place. */
class CorpusSourceTest {
    @TempDir
    Path dir;

    static List<Document> readAll(CorpusSource source) throws IOException {
        List<Document> docs = new ArrayList<>();
        try (DocumentReader reader = source.open()) {
            Document d;
            while ((d = reader.next()) != null) {
                docs.add(d);
            }
            assertEquals(1.0, reader.fractionRead(), 1e-9);
        }
        return docs;
    }

    @Test
    void defaultCorpusIsTheEnglishEuroparlDocuments() throws IOException {
        CorpusSource europarl = CorpusSource.of(null);
        assertEquals("europarl-en", europarl.name());
        List<Document> docs = readAll(europarl);
        System.out.println("Europarl English documents: " + docs.size());
        // 17,597 lines in ~20 languages; the Europarl sample holds about 1,250 English ones.
        assertTrue(docs.size() > 1_200 && docs.size() < 1_350, "English documents: " + docs.size());
        for (Document d : docs) {
            assertTrue(EnglishDetector.isEnglish(d.text()), d.source());
        }
        assertTrue(docs.stream().anyMatch(d -> d.text().contains(" the European Parliament")));
    }

    @Test
    void stopWordRatioSeparatesEnglishFromOtherLanguages() {
        assertTrue(EnglishDetector.isEnglish("The Commission has stated that it will present a proposal on this matter."));
        assertFalse(EnglishDetector.isEnglish("Die Kommission hat erklärt, dass sie einen Vorschlag vorlegen wird."));
        assertFalse(EnglishDetector.isEnglish("Jeg vil gerne endnu en gang fremhæve den betydning, som arbejdet i udvalget har haft for os alle."));
        assertFalse(EnglishDetector.isEnglish("Η Επιτροπή δήλωσε ότι θα υποβάλει πρόταση."));
        assertFalse(EnglishDetector.isEnglish(""));
    }

    @Test
    void jsonlGivesOneDocumentPerLineAndNamesABadLine() throws IOException {
        Path file = dir.resolve("docs.jsonl");
        Files.writeString(file, "{\"text\": \"first \\u00e9\", \"source\": \"a\"}\n\n{\"text\": \"second\"}\n");
        List<Document> docs = readAll(CorpusSource.of(file));
        assertEquals(List.of("first é", "second"), docs.stream().map(Document::text).toList());

        Files.writeString(file, "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n{\"text\": oops}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> readAll(CorpusSource.of(file)));
        assertTrue(e.getMessage().startsWith(file + ":3: not valid JSON"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));

        Files.writeString(file, "{\"text\": \"ok\"}\n{\"body\": \"no text\"}\n");
        e = assertThrows(IllegalArgumentException.class, () -> readAll(CorpusSource.of(file)));
        assertEquals(file + ":2: no string \"text\" field", e.getMessage());
    }

    @Test
    void textFileIsReadInParagraphBoundedChunks() throws IOException {
        Path file = dir.resolve("book.txt");
        StringBuilder text = new StringBuilder();
        String paragraph = "a line of the book\n".repeat(50) + "\n";
        while (text.length() < 3 * TextFileCorpus.CHUNK_CHARS) {
            text.append(paragraph);
        }
        Files.writeString(file, text);
        List<Document> docs = readAll(CorpusSource.of(file));
        assertTrue(docs.size() >= 2 && docs.size() <= 4, "chunks: " + docs.size());
        assertEquals(text.toString(), docs.stream().map(Document::text).reduce("", String::concat), "nothing lost");
        for (Document d : docs.subList(0, docs.size() - 1)) {
            assertTrue(d.text().endsWith("\n\n") && d.text().length() >= TextFileCorpus.CHUNK_CHARS);
        }
    }

    @Test
    void folderReadsEveryVisibleFileInPathOrder() throws IOException {
        Files.createDirectories(dir.resolve("b/.git"));
        Files.writeString(dir.resolve("b/two.txt"), "two");
        Files.writeString(dir.resolve("a.txt"), "one");
        Files.writeString(dir.resolve("b/.git/config"), "hidden");
        Files.writeString(dir.resolve(".hidden.txt"), "hidden");
        List<Document> docs = readAll(CorpusSource.of(dir));
        assertEquals(List.of("one\n", "two\n"), docs.stream().map(Document::text).toList());
    }

    @Test
    void missingPathAndInvalidUtf8AreOneLineErrors() throws IOException {
        Path missing = dir.resolve("nope.jsonl");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CorpusSource.of(missing));
        assertEquals("corpus " + missing + ": no such file or directory", e.getMessage());

        Path binary = dir.resolve("binary.txt");
        Files.write(binary, new byte[] {'o', 'k', '\n', (byte) 0xC3, (byte) 0x28, '\n'});
        IOException io = assertThrows(IOException.class, () -> readAll(CorpusSource.of(binary)));
        assertEquals(binary + ": not UTF-8 text (at or after line 1)", io.getMessage());
    }
}
