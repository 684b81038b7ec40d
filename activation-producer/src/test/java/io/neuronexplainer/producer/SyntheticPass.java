package io.neuronexplainer.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.neuronexplainer.producer.corpus.Document;
import io.neuronexplainer.producer.corpus.DocumentReader;
import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.schemas.NeuronActivations;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** One synthetic pass set-up for the snapshot, resume and shard tests: model, corpus, settings, batch. */
final class SyntheticPass {
    static final int[] LAYERS = {2, 0};
    static final int NEURONS = 24;
    static final int BATCH = 5;
    static final int DOCUMENTS = 120;
    static final long CORPUS_SEED = 3;
    static final SamplingSettings SETTINGS = new SamplingSettings(64, 20, 5, 5, 5, SamplingSettings.DRIFT_WINDOWS, 7L);
    static final String FINGERPRINT = TestCorpus.FINGERPRINT;
    static final Instant PRODUCED_AT = Instant.parse("2024-01-02T03:04:05Z");

    private SyntheticPass() {}

    /** A new pass, as a new process would make it. */
    static CorpusPass newPass() {
        return new CorpusPass(new SyntheticModel(3, NEURONS), new CharTokenizer(), LAYERS, SETTINGS, FINGERPRINT, BATCH);
    }

    static DocumentReader corpus() {
        return TestCorpus.documents(DOCUMENTS, CORPUS_SEED);
    }

    /** The corpus, failing like a killed process once {@code documents} documents are read. */
    static DocumentReader corpusKilledAfter(int documents) {
        DocumentReader all = corpus();
        return new DocumentReader() {
            int read;

            @Override
            public Document next() throws IOException {
                if (read++ == documents) {
                    throw new IOException("killed");
                }
                return all.next();
            }

            @Override
            public double fractionRead() {
                return all.fractionRead();
            }

            @Override
            public void close() throws IOException {
                all.close();
            }
        };
    }

    static long totalWindows() throws IOException {
        return WindowCutter.countWindows(corpus(), new CharTokenizer(), SETTINGS.windowTokens());
    }

    /** Runs {@code pass} over {@code range} (the rest of it after a restore), with no snapshots. */
    static PassResult run(CorpusPass pass, ShardRange range) throws IOException {
        return run(pass, range, PassSnapshots.NONE, null);
    }

    static PassResult run(CorpusPass pass, ShardRange range, PassSnapshots snapshots, Duration every)
            throws IOException {
        try (WindowCutter cutter = pass.cutter(corpus(), range, 0)) {
            return pass.run(cutter, range, "generated", () -> {}, PassProgress.NONE, snapshots, every);
        }
    }

    static List<NeuronActivations> emit(CorpusPass pass) {
        List<NeuronActivations> records = new ArrayList<>();
        pass.emit(CorpusPassTest.RUN, PRODUCED_AT, records::add);
        return records;
    }

    /** The records and counts of one uninterrupted pass over the whole corpus, the old way. */
    static List<NeuronActivations> onePass(PassResult[] result) throws IOException {
        CorpusPass pass = newPass();
        try (WindowCutter cutter = new WindowCutter(corpus(), new CharTokenizer(), SETTINGS.windowTokens(), 0)) {
            result[0] = pass.run(cutter, "generated", () -> {}, PassProgress.NONE);
        }
        return emit(pass);
    }

    /** Same records field by field (Avro's equals compares every field, floats exactly), with a precise message. */
    static void assertSameRecords(List<NeuronActivations> expected, List<NeuronActivations> actual, String where) {
        assertEquals(expected.size(), actual.size(), where + ": record count");
        for (int i = 0; i < expected.size(); i++) {
            NeuronActivations e = expected.get(i);
            NeuronActivations a = actual.get(i);
            String at = where + ": " + e.getNeuron();
            assertEquals(e.getNeuron(), a.getNeuron(), at);
            assertEquals(e.getExplanationWindows(), a.getExplanationWindows(), at + " explanation windows");
            assertEquals(e.getScoringTopWindows(), a.getScoringTopWindows(), at + " scoring top windows");
            assertEquals(e.getScoringRandomWindows(), a.getScoringRandomWindows(), at + " random windows");
            assertEquals(e.getStats(), a.getStats(), at + " stats");
            assertEquals(e.getRun(), a.getRun(), at + " run");
            assertEquals(e, a, at);
        }
    }

    static void assertSameCounts(PassResult expected, PassResult actual) {
        assertEquals(List.of(expected.documents(), expected.windows(), expected.tokens(), expected.tokensSkipped()),
                List.of(actual.documents(), actual.windows(), actual.tokens(), actual.tokensSkipped()),
                "documents, windows, tokens, tokens skipped");
    }
}
