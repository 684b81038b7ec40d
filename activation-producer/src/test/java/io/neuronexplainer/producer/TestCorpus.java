package io.neuronexplainer.producer;

import io.neuronexplainer.producer.corpus.Document;
import io.neuronexplainer.producer.corpus.DocumentReader;
import java.util.Random;

/** A generated corpus for tests: documents of pseudo-random lowercase text, of varied lengths. */
public final class TestCorpus {
    /** A stand-in corpus fingerprint for passes whose random sample's exact windows do not matter. */
    public static final String FINGERPRINT = "test-corpus";

    private TestCorpus() {}

    /** {@code count} documents of 30 to 400 characters from a small alphabet (so windows repeat patterns). */
    public static DocumentReader documents(int count, long seed) {
        Random random = new Random(seed);
        return new DocumentReader() {
            int made;

            @Override
            public Document next() {
                if (made == count) {
                    return null;
                }
                int length = 30 + random.nextInt(370);
                StringBuilder text = new StringBuilder(length);
                for (int i = 0; i < length; i++) {
                    text.append((char) ('a' + random.nextInt(12)));
                }
                return new Document("doc-" + made++, text.toString());
            }

            @Override
            public double fractionRead() {
                return (double) made / count;
            }

            @Override
            public void close() {}
        };
    }
}
