package io.neuronexplainer.producer.corpus;

import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tells English text from the other European languages by the share of its words that are
 * common English function words. On the Europarl sample, English documents score 0.22-0.5 and
 * all others at most 0.13 (Danish and Dutch share "for", "at", "in"), so 0.2 separates them.
 */
public final class EnglishDetector {
    static final double THRESHOLD = 0.2;

    private static final Set<String> STOP_WORDS = Set.of(
            "the", "of", "and", "to", "in", "is", "that", "for", "it", "this", "be", "on", "with",
            "are", "as", "we", "have", "not", "by", "which", "will", "at");
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}_]+");

    private EnglishDetector() {}

    /** The share of the words of {@code text} that are English stop words (0 without words). */
    public static double stopWordRatio(String text) {
        Matcher m = WORD.matcher(text);
        int words = 0;
        int stop = 0;
        while (m.find()) {
            words++;
            if (STOP_WORDS.contains(m.group().toLowerCase(Locale.ROOT))) {
                stop++;
            }
        }
        return words == 0 ? 0 : (double) stop / words;
    }

    public static boolean isEnglish(String text) {
        return stopWordRatio(text) >= THRESHOLD;
    }
}
