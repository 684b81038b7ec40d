package io.neuronexplainer.producer;

import java.io.PrintStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shows a corpus pass's progress: on a terminal a progress bar redrawn in place on stderr with
 * windows, tokens/s and ETA; otherwise (a log file, CI) one plain log line every
 * {@link #LOG_EVERY_NANOS}, since carriage-return redraws garble logs.
 */
public final class ProgressReporter implements PassProgress {
    private static final Logger log = LoggerFactory.getLogger(ProgressReporter.class);
    private static final long LOG_EVERY_NANOS = 10_000_000_000L;
    private static final long DRAW_EVERY_NANOS = 200_000_000L;
    private static final int BAR = 30;

    private final boolean terminal;
    private final PrintStream out;
    private long start = System.nanoTime();
    private long lastShown = start;
    private long windows;
    private long tokens;
    private double fraction = Double.NaN;
    private boolean drawn;

    private ProgressReporter(boolean terminal, PrintStream out) {
        this.terminal = terminal;
        this.out = out;
    }

    /** A bar when this process has a terminal (System.console() != null), log lines otherwise. */
    public static ProgressReporter forThisProcess() {
        return new ProgressReporter(System.console() != null, System.err);
    }

    public static ProgressReporter logLines() {
        return new ProgressReporter(false, System.err);
    }

    @Override
    public void started() {
        start = System.nanoTime();
        lastShown = start;
    }

    @Override
    public void update(long windows, long tokens, double fraction) {
        this.windows = windows;
        this.tokens = tokens;
        this.fraction = fraction;
        long now = System.nanoTime();
        if (now - lastShown >= (terminal ? DRAW_EVERY_NANOS : LOG_EVERY_NANOS)) {
            lastShown = now;
            show(now);
        }
    }

    @Override
    public void finish() {
        show(System.nanoTime());
        if (terminal && drawn) {
            out.println();
            out.flush();
        }
    }

    private void show(long now) {
        double seconds = Math.max(1e-9, (now - start) / 1e9);
        double rate = tokens / seconds;
        String eta = Double.isNaN(fraction) || fraction <= 0 ? "?" : duration(seconds * (1 - fraction) / fraction);
        String percent = Double.isNaN(fraction) ? "  ?%" : String.format("%3.0f%%", 100 * fraction);
        if (terminal) {
            int filled = Double.isNaN(fraction) ? 0 : (int) Math.round(BAR * Math.min(1, fraction));
            out.printf("\r[%s%s] %s %,d windows %,d tokens %,.0f tokens/s ETA %s   ",
                    "#".repeat(filled), ".".repeat(BAR - filled), percent, windows, tokens, rate, eta);
            out.flush();
            drawn = true;
        } else {
            log.info("progress {} {} windows, {} tokens, {} tokens/s, ETA {}", percent.trim(), windows, tokens,
                    Math.round(rate), eta);
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format("%d:%02d", s / 60, s % 60);
    }
}
