package io.neuronexplainer.scorer;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A duration as a flag takes it and a message shows it: seconds ({@code 90}), a number with a
 * unit ({@code 500ms}, {@code 90s}, {@code 30m}, {@code 1h}, {@code 2d}) or ISO-8601 ({@code PT1H}).
 */
public final class DurationText {
    private static final Pattern NUMBER_UNIT = Pattern.compile("(\\d+)\\s*(ms|s|m|min|h|d)?");

    private DurationText() {}

    public static Duration parse(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        Matcher m = NUMBER_UNIT.matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            String unit = m.group(2) == null ? "s" : m.group(2);
            return switch (unit) {
                case "ms" -> Duration.ofMillis(n);
                case "m", "min" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofSeconds(n);
            };
        }
        try {
            return Duration.parse(text.strip().toUpperCase(Locale.ROOT));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not a duration: '" + text + "' (e.g. 3600, 90s, 30m, 1h or PT1H)");
        }
    }

    /** The duration in its largest whole unit, e.g. "1 h", "90 s", "1500 ms". */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 86_400_000 == 0 && ms > 0) {
            return ms / 86_400_000 + " d";
        }
        if (ms % 3_600_000 == 0 && ms > 0) {
            return ms / 3_600_000 + " h";
        }
        if (ms % 60_000 == 0 && ms > 0) {
            return ms / 60_000 + " min";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + " s";
        }
        return ms + " ms";
    }
}
