package io.neuronexplainer.producer.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.neuronexplainer.producer.CharTokenizer;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Documents cut into consecutive, non-overlapping, full-length windows. */
class WindowCutterTest {

    private static DocumentReader documents(String... texts) {
        Deque<String> left = new ArrayDeque<>(List.of(texts));
        return new DocumentReader() {
            @Override
            public Document next() {
                return left.isEmpty() ? null : new Document("test", left.poll());
            }

            @Override
            public double fractionRead() {
                return Double.NaN;
            }

            @Override
            public void close() {}
        };
    }

    @Test
    void windowsAreConsecutiveWithinADocumentAndTailsAreSkipped() throws IOException {
        String a = "abcdefghij"; // 10 tokens: windows abcd, efgh; tail ij skipped
        String b = "xyz";        // shorter than a window: none
        String c = "12345678";   // exactly two windows
        try (WindowCutter cutter = new WindowCutter(documents(a, b, c), new CharTokenizer(), 4, 0)) {
            List<CorpusWindow> all = cutter.nextBatch(100);
            assertEquals(List.of("abcd", "efgh", "1234", "5678"), all.stream().map(w -> text(w.ids())).toList());
            assertEquals(List.of(0L, 1L, 2L, 3L), all.stream().map(CorpusWindow::index).toList());
            assertEquals(3, cutter.documentsRead());
            assertEquals(2 + 3, cutter.tokensSkipped());
            assertNull(cutter.next());
        }
    }

    @Test
    void stopsAtTheWindowBudgetInBatches() throws IOException {
        try (WindowCutter cutter = new WindowCutter(documents("a".repeat(64 * 10)), new CharTokenizer(), 64, 5)) {
            assertEquals(2, cutter.nextBatch(2).size());
            assertEquals(2, cutter.nextBatch(2).size());
            List<CorpusWindow> last = cutter.nextBatch(2);
            assertEquals(1, last.size());
            assertEquals(4, last.get(0).index());
            assertEquals(64, last.get(0).ids().length);
            assertEquals(List.of(), cutter.nextBatch(2));
            assertEquals(1.0, cutter.fractionDone());
        }
    }

    @Test
    void emptyCorpusGivesNoWindow() throws IOException {
        try (WindowCutter cutter = new WindowCutter(documents("", "short"), new CharTokenizer(), 64, 0)) {
            assertNull(cutter.next());
            assertArrayEquals(new long[] {2, 0}, new long[] {cutter.documentsRead(), cutter.windowsCut()});
        }
    }

    private static String text(int[] ids) {
        return new String(ids, 0, ids.length);
    }
}
