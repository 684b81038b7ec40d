package io.neuronexplainer.producer.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The hand-written scan counts exactly what the regex definition of a word and a stop word counts. */
class EnglishDetectorTest {
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}_]+");

    /** The definition, readable and slow: regex words, lower-cased, looked up in the stop words. */
    static double byRegex(String text) {
        Matcher m = WORD.matcher(text);
        int words = 0;
        int stop = 0;
        while (m.find()) {
            words++;
            if (EnglishDetector.STOP_WORDS.contains(m.group().toLowerCase(Locale.ROOT))) {
                stop++;
            }
        }
        return words == 0 ? 0 : (double) stop / words;
    }

    @Test
    void edgeCasesCountAsTheRegexDoes() {
        for (String text : List.of("", " ", "The", "THE the tHe", "which whichever thee th", "_the the_ 2the the2",
                "İs is ıs", "ﬁ the ²the ⅷthe", "naïve thé the", "über the 𝐭𝐡𝐞 𝟐 the", "a\u0301nd and", "to—to,to.to",
                "WITH with WiTh wit withs", "Die Kommission hat erklärt, dass sie einen Vorschlag vorlegen wird.")) {
            assertEquals(byRegex(text), EnglishDetector.stopWordRatio(text), 1e-12, text);
        }
        assertEquals(0.5, EnglishDetector.stopWordRatio("THE Commission"), 1e-12);
    }

    @Test
    void everyEuroparlLineCountsAsTheRegexDoes() throws IOException {
        var url = EnglishDetector.class.getClassLoader().getResource(EuroparlCorpus.RESOURCE);
        int lines = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new GZIPInputStream(url.openStream()),
                StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                assertEquals(byRegex(line), EnglishDetector.stopWordRatio(line), 1e-12, line);
                lines++;
            }
        }
        assertTrue(lines > 17_000, "lines read: " + lines);
    }
}
