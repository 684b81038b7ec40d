package io.neuronexplainer.producer.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.neuronexplainer.producer.CharTokenizer;
import io.neuronexplainer.producer.TestCorpus;
import java.util.ArrayList;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Documents cut into consecutive, non-overlapping, full-length windows; ranges of them; counting them. */
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

    private static List<CorpusWindow> cut(WindowCutter cutter) throws IOException {
        List<CorpusWindow> out = new ArrayList<>();
        CorpusWindow w;
        while ((w = cutter.next()) != null) {
            out.add(w);
        }
        return out;
    }

    @Test
    void rangesCutTheSameWindowsWithTheirGlobalIndicesAndTheirCountsAddUp() throws IOException {
        List<CorpusWindow> all;
        long documents;
        long skipped;
        try (WindowCutter whole = new WindowCutter(TestCorpus.documents(60, 8), new CharTokenizer(), 16, 0)) {
            all = cut(whole);
            documents = whole.documentsRead();
            skipped = whole.tokensSkipped();
        }
        assertEquals(all.size(), WindowCutter.countWindows(TestCorpus.documents(60, 8), new CharTokenizer(), 16));
        long[] cuts = {0, 37, 38, 200, all.size()};
        long documentsSum = 0;
        long skippedSum = 0;
        List<CorpusWindow> joined = new ArrayList<>();
        for (int i = 0; i + 1 < cuts.length; i++) {
            boolean last = i + 2 == cuts.length;
            try (WindowCutter part = new WindowCutter(TestCorpus.documents(60, 8), new CharTokenizer(), 16, cuts[i],
                    last ? Long.MAX_VALUE : cuts[i + 1])) {
                assertEquals(cuts[i], part.nextWindow());
                List<CorpusWindow> windows = cut(part);
                assertEquals(cuts[i + 1] - cuts[i], windows.size());
                assertEquals(cuts[i + 1] - cuts[i], part.windowsCut());
                joined.addAll(windows);
                documentsSum += part.documentsRead();
                skippedSum += part.tokensSkipped();
            }
        }
        assertEquals(all.size(), joined.size());
        for (int i = 0; i < all.size(); i++) {
            assertEquals(all.get(i).index(), joined.get(i).index());
            assertArrayEquals(all.get(i).ids(), joined.get(i).ids());
        }
        assertEquals(documents, documentsSum);
        assertEquals(skipped, skippedSum);
    }

    @Test
    void anEmptyRangeReadsNothing() throws IOException {
        try (WindowCutter cutter = new WindowCutter(documents("abcdefgh"), new CharTokenizer(), 4, 0, 0)) {
            assertNull(cutter.next());
            assertEquals(0, cutter.documentsRead());
            assertEquals(1.0, cutter.fractionDone());
        }
    }

    @Test
    void aRangeBeyondTheCorpusIsEmpty() throws IOException {
        try (WindowCutter cutter = new WindowCutter(documents("abcdefgh"), new CharTokenizer(), 4, 5, 9)) {
            assertNull(cutter.next());
            assertEquals(0, cutter.windowsCut());
            assertEquals(0, cutter.documentsRead());
        }
    }
}
