package io.neuronexplainer.producer.corpus;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A corpus's fingerprint for the run identity: SHA-256 over its documents' texts, in reading
 * order. Content, not names or dates, so the same text under another path is the same corpus and
 * an edited file is another. Reading costs about one pass of I/O, small beside the forward pass.
 */
public final class CorpusFingerprint {
    private CorpusFingerprint() {}

    public static String of(CorpusSource source) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
        try (DocumentReader reader = source.open()) {
            for (Document d = reader.next(); d != null; d = reader.next()) {
                sha.update(d.text().getBytes(StandardCharsets.UTF_8));
                sha.update((byte) 0); // documents stay apart: "ab"+"c" is not "a"+"bc"
            }
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 16);
    }
}
