package io.neuronexplainer.llm;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One worker's LLM budget: at most a number of calls started, and tokens spent, in any sliding
 * window (a minute outside tests). A call that does not fit is held, never dropped or failed, and
 * started later on the caller's timer thread, in the order the calls came; no thread waits.
 *
 * <p>Calls: a call starts only while fewer than the cap were started in the last window.
 * Tokens: the server reports a call's tokens only with its answer, so a call starts only while
 * the tokens reported in the last window, plus the expected tokens of the calls still in flight
 * (the mean of the answers in the window), are below the cap. Counting the calls in flight keeps a
 * burst of concurrent calls from all starting before the first answer; until one answer has told
 * what a call costs, calls start one at a time. So the cap is exceeded by at most about one call.
 */
final class LlmBudget implements AutoCloseable {
    /** Which cap held a call back; its name is the {@code limit} tag. */
    enum Limit {
        CALLS, TOKENS;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    static final Duration MINUTE = Duration.ofMinutes(1);

    private final int maxCalls;
    private final long maxTokens;
    private final long windowNanos;
    private final ScheduledExecutorService timer;
    private final Consumer<Limit> onHold;

    /** Start times of the calls in the window (only with a calls cap). */
    private final ArrayDeque<Long> starts = new ArrayDeque<>();
    /** Answers in the window as {time, tokens} (only with a tokens cap). */
    private final ArrayDeque<long[]> answers = new ArrayDeque<>();
    private long answeredTokens;
    /** Calls started and not yet answered or failed (only with a tokens cap). */
    private int inFlight;
    /** Tokens per answer, kept when the window empties; NaN until the first answer. */
    private double tokensPerCall = Double.NaN;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private ScheduledFuture<?> wake;
    private long wakeAt;
    private boolean closed;

    /** A call waiting for the budget; counted once in the waits, under the cap that held it first. */
    private static final class Held {
        final Runnable start;
        final Runnable abandon;
        boolean counted;

        Held(Runnable start, Runnable abandon) {
            this.start = start;
            this.abandon = abandon;
        }
    }

    /**
     * @param maxCalls calls per window, 0 for no cap
     * @param maxTokens prompt+completion tokens per window, 0 for no cap
     * @param timer where held calls are started
     * @param onHold told once for every call held back, with the cap that held it
     */
    LlmBudget(int maxCalls, long maxTokens, Duration window, ScheduledExecutorService timer, Consumer<Limit> onHold) {
        if (maxCalls < 0 || maxTokens < 0) {
            throw new IllegalArgumentException("budget caps must be >= 0, got " + maxCalls + " calls and " + maxTokens + " tokens");
        }
        this.maxCalls = maxCalls;
        this.maxTokens = maxTokens;
        this.windowNanos = window.toNanos();
        this.timer = timer;
        this.onHold = onHold;
    }

    boolean unlimited() {
        return maxCalls == 0 && maxTokens == 0;
    }

    /**
     * Runs {@code start} now on this thread if the budget allows and no call is held, else later
     * on the timer thread; {@code abandon} runs instead if the budget is closed first. A started
     * call must end with {@link #answered} or {@link #failed}.
     */
    void admit(Runnable start, Runnable abandon) {
        if (unlimited()) {
            start.run();
            return;
        }
        Runnable run = null;
        Limit holding = null;
        synchronized (this) {
            if (closed) {
                run = abandon;
            } else {
                long now = System.nanoTime();
                Limit blocked = blockedBy(now);
                if (held.isEmpty() && blocked == null) {
                    take(now);
                    run = start;
                } else {
                    Held h = new Held(start, abandon);
                    held.add(h);
                    if (blocked != null) {
                        h.counted = true;
                        holding = blocked;
                        scheduleWake(now, blocked);
                    } else {
                        scheduleDrain(); // calls held before this one fit now: they go first
                    }
                }
            }
        }
        if (holding != null) {
            onHold.accept(holding);
        }
        if (run != null) {
            run.run();
        }
    }

    /** A started call was answered, with the tokens the server reported (0 when it reports none). */
    void answered(long tokens) {
        if (maxTokens == 0) {
            return;
        }
        synchronized (this) {
            inFlight--;
            answers.add(new long[] {System.nanoTime(), tokens});
            answeredTokens += tokens;
            tokensPerCall = (double) answeredTokens / answers.size();
            if (!held.isEmpty()) {
                scheduleDrain();
            }
        }
    }

    /** A started call ended without an answer (an HTTP error, a timeout): it spent no reported tokens. */
    void failed() {
        if (maxTokens == 0) {
            return;
        }
        synchronized (this) {
            inFlight--;
            if (!held.isEmpty()) {
                scheduleDrain();
            }
        }
    }

    /** Calls held now. */
    synchronized int held() {
        return held.size();
    }

    /** Starts the held calls that fit now, in order; on the timer thread. */
    private void drain() {
        List<Runnable> ready = new ArrayList<>();
        List<Limit> holds = new ArrayList<>();
        synchronized (this) {
            wake = null;
            if (closed) {
                return;
            }
            long now = System.nanoTime();
            while (!held.isEmpty()) {
                Limit blocked = blockedBy(now);
                if (blocked != null) {
                    for (Held h : held) {
                        if (!h.counted) {
                            h.counted = true;
                            holds.add(blocked);
                        }
                    }
                    scheduleWake(now, blocked);
                    break;
                }
                take(now);
                ready.add(held.poll().start);
            }
        }
        holds.forEach(onHold);
        ready.forEach(Runnable::run);
    }

    /** The cap a call starting now would break, or null when it fits. */
    private Limit blockedBy(long now) {
        expire(now);
        if (maxCalls > 0 && starts.size() >= maxCalls) {
            return Limit.CALLS;
        }
        if (maxTokens > 0) {
            if (Double.isNaN(tokensPerCall)) {
                return inFlight > 0 ? Limit.TOKENS : null;
            }
            if (answeredTokens + inFlight * tokensPerCall >= maxTokens) {
                return Limit.TOKENS;
            }
        }
        return null;
    }

    private void expire(long now) {
        while (!starts.isEmpty() && now - starts.peekFirst() >= windowNanos) {
            starts.pollFirst();
        }
        while (!answers.isEmpty() && now - answers.peekFirst()[0] >= windowNanos) {
            answeredTokens -= answers.pollFirst()[1];
        }
        if (!answers.isEmpty()) {
            tokensPerCall = (double) answeredTokens / answers.size();
        }
    }

    private void take(long now) {
        if (maxCalls > 0) {
            starts.add(now);
        }
        if (maxTokens > 0) {
            inFlight++;
        }
    }

    /**
     * Wakes when the oldest start (calls) or enough of the oldest answers (tokens) leave the
     * window; an answer or failure of a call in flight wakes it sooner. At most one window late.
     */
    private void scheduleWake(long now, Limit blocked) {
        long at = now + windowNanos;
        if (blocked == Limit.CALLS) {
            at = starts.peekFirst() + windowNanos;
        } else if (!Double.isNaN(tokensPerCall)) {
            double over = answeredTokens + inFlight * tokensPerCall - maxTokens;
            long freed = 0;
            for (long[] a : answers) {
                freed += a[1];
                if (freed > over) {
                    at = a[0] + windowNanos;
                    break;
                }
            }
        }
        if (wake != null && !wake.isDone() && wakeAt <= at) {
            return;
        }
        if (wake != null) {
            wake.cancel(false);
        }
        try {
            wakeAt = at;
            wake = timer.schedule(this::drain, Math.max(0, at - now), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            wake = null; // closing: close() abandons the held calls
        }
    }

    private void scheduleDrain() {
        try {
            timer.execute(this::drain);
        } catch (RejectedExecutionException e) {
            // closing: close() abandons the held calls
        }
    }

    /** Abandons every held call. */
    @Override
    public void close() {
        List<Held> abandoned;
        synchronized (this) {
            closed = true;
            abandoned = new ArrayList<>(held);
            held.clear();
            if (wake != null) {
                wake.cancel(false);
            }
        }
        abandoned.forEach(h -> h.abandon.run());
    }
}
