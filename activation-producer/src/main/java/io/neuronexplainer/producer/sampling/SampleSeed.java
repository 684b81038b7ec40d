package io.neuronexplainer.producer.sampling;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The seed of a run's shared random sample: a hash of the corpus fingerprint and the user's
 * {@code --seed}. Why the corpus: every checkpoint of a series (same corpus, same settings) then
 * samples the very same windows, so their activations compare window by window, while another
 * corpus samples windows of its own rather than the same window numbers of different text.
 */
public final class SampleSeed {
    private SampleSeed() {}

    public static long of(String corpusFingerprint, long seed) {
        if (corpusFingerprint == null || corpusFingerprint.isEmpty()) {
            throw new IllegalArgumentException("the random sample's seed needs the corpus fingerprint");
        }
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
        sha.update(("random-sample\0" + corpusFingerprint + "\0").getBytes(StandardCharsets.UTF_8));
        sha.update(ByteBuffer.allocate(Long.BYTES).putLong(seed).array());
        return ByteBuffer.wrap(sha.digest()).getLong();
    }
}
