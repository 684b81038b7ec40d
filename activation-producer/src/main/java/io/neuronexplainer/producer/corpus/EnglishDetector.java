package io.neuronexplainer.producer.corpus;

import java.util.Arrays;
import java.util.Set;

/**
 * Tells English text from the other European languages by the share of its words that are
 * common English function words. On the Europarl sample, English documents score 0.22-0.5 and
 * all others at most 0.13 (Danish and Dutch share "for", "at", "in"), so 0.2 separates them.
 */
public final class EnglishDetector {
    static final double THRESHOLD = 0.2;

    static final Set<String> STOP_WORDS = Set.of(
            "the", "of", "and", "to", "in", "is", "that", "for", "it", "this", "be", "on", "with",
            "are", "as", "we", "have", "not", "by", "which", "will", "at");
    /** Longest stop word: a longer word is counted without being looked at. */
    private static final int MAX_STOP_LENGTH = 5;
    /** The stop words packed as {@link #pack}ed ASCII, searched without building a String per word. */
    private static final long[] PACKED_STOP_WORDS = STOP_WORDS.stream().mapToLong(EnglishDetector::pack).sorted().toArray();

    static {
        // Packing holds up to 8 ASCII characters; a longer stop word would silently never match.
        for (String w : STOP_WORDS) {
            if (w.length() > MAX_STOP_LENGTH || !w.chars().allMatch(c -> c >= 'a' && c <= 'z')) {
                throw new ExceptionInInitializerError("stop word '" + w + "' is not lower-case ASCII of at most "
                        + MAX_STOP_LENGTH + " letters");
            }
        }
    }

    private EnglishDetector() {}

    /**
     * The share of the words of {@code text} that are English stop words (0 without words). A word
     * is a run of letters, digits (any Unicode number) and underscores; case is ignored.
     */
    public static double stopWordRatio(String text) {
        // Scanned by hand rather than with a regex and a lower-cased String per word: it runs over
        // every document of the corpus, on the producer's own thread, twice a run (fingerprint, pass).
        int words = 0;
        int stop = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            int cp = text.codePointAt(i);
            if (!isWordChar(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            words++;
            long packed = 0;
            int length = 0;
            boolean ascii = true;
            while (i < n && isWordChar(cp = text.codePointAt(i))) {
                if (cp >= 'A' && cp <= 'Z') {
                    cp += 'a' - 'A';
                } else if (cp >= 128) {
                    ascii = false; // stop words are ASCII: a word with any other letter is none (İ and the Kelvin sign lower-case to no stop word)
                }
                if (++length <= MAX_STOP_LENGTH) {
                    packed = packed << 8 | (cp & 0xff);
                }
                i += Character.charCount(cp);
            }
            if (ascii && length <= MAX_STOP_LENGTH && Arrays.binarySearch(PACKED_STOP_WORDS, packed) >= 0) {
                stop++;
            }
        }
        return words == 0 ? 0 : (double) stop / words;
    }

    public static boolean isEnglish(String text) {
        return stopWordRatio(text) >= THRESHOLD;
    }

    /** Letters, numbers (decimal, letter-like and other) and underscore: the regex class [\\p{L}\\p{N}_]. */
    private static boolean isWordChar(int cp) {
        if (cp < 128) {
            return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_';
        }
        if (Character.isLetter(cp)) {
            return true;
        }
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER || type == Character.OTHER_NUMBER;
    }

    private static long pack(String word) {
        long packed = 0;
        for (int i = 0; i < word.length(); i++) {
            packed = packed << 8 | word.charAt(i);
        }
        return packed;
    }
}
