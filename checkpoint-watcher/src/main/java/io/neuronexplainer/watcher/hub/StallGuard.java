package io.neuronexplainer.watcher.hub;

import io.neuronexplainer.runtime.DaemonThreads;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Aborts a body download that has received no byte for a while: HttpClient's request timeout
 * ends at the response headers, so without this a stalled transfer would block forever.
 */
final class StallGuard implements AutoCloseable {
    private static final ScheduledExecutorService TIMER =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("hub-download-stall-guard"));

    private final Thread reader = Thread.currentThread();
    private final Closeable body;
    private final long limitNanos;
    private final ScheduledFuture<?> check;
    private volatile long lastProgress = System.nanoTime();
    private boolean done;
    private boolean fired;

    /** Guards the current thread's reads of {@code body}. */
    StallGuard(Closeable body, Duration limit) {
        this.body = body;
        this.limitNanos = limit.toNanos();
        long period = Math.max(20, Math.min(1000, limit.toMillis() / 4));
        this.check = TIMER.scheduleAtFixedRate(this::check, period, period, TimeUnit.MILLISECONDS);
    }

    void progress() {
        lastProgress = System.nanoTime();
    }

    /** Whether the guard aborted the read. */
    synchronized boolean fired() {
        return fired;
    }

    private synchronized void check() {
        if (done || fired || System.nanoTime() - lastProgress < limitNanos) {
            return;
        }
        fired = true;
        // Both: the interrupt wakes a reader blocked on the body's queue, the close ends the exchange.
        reader.interrupt();
        try {
            body.close();
        } catch (IOException | RuntimeException ignored) {
            // The reader fails either way.
        }
    }

    @Override
    public void close() {
        check.cancel(false);
        synchronized (this) {
            done = true;
            if (fired) {
                Thread.interrupted(); // the interrupt was ours, not the caller's
            }
        }
    }
}
