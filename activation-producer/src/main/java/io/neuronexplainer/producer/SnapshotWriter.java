package io.neuronexplainer.producer;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a pass's snapshots to a {@link PassSnapshotStore} on a background thread, so the pass
 * only pays for the in-memory copy. Only the newest snapshot matters: one handed over while
 * another is being written replaces any still waiting, and one thread writes, so a shard's
 * file is never written twice at once. A failed write is logged and the next one tried;
 * {@link #flush()} and {@link #close()} report it.
 */
public final class SnapshotWriter implements PassSnapshots, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SnapshotWriter.class);
    private final PassSnapshotStore store;
    private final String runId;
    private final Thread thread;
    private PassState pending;
    private boolean writing;
    private boolean closed;
    private IOException failure;

    SnapshotWriter(PassSnapshotStore store, String runId) {
        this.store = store;
        this.runId = runId;
        this.thread = new Thread(this::loop, "pass-snapshots-" + runId);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public synchronized void save(PassState copy) {
        if (closed) {
            throw new IllegalStateException("snapshot writer of run " + runId + " is closed");
        }
        if (pending != null) {
            log.info("snapshot at window {} replaced by the one at window {} before it was written",
                    pending.nextWindow(), copy.nextWindow());
        }
        pending = copy;
        notifyAll();
    }

    private void loop() {
        while (true) {
            PassState next;
            synchronized (this) {
                while (pending == null && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (pending == null) {
                    return;
                }
                next = pending;
                pending = null;
                writing = true;
            }
            IOException error = null;
            try {
                store.save(runId, next);
            } catch (IOException e) {
                error = e;
                log.warn("snapshot of {} not written: {}", next.range(), e.getMessage());
            } catch (UncheckedIOException e) {
                error = e.getCause();
                log.warn("snapshot of {} not written: {}", next.range(), e.getMessage());
            } catch (RuntimeException e) {
                error = new IOException(e.toString(), e);
                log.warn("snapshot of {} not written", next.range(), e);
            }
            synchronized (this) {
                writing = false;
                failure = error;
                notifyAll();
            }
        }
    }

    /** Waits until every snapshot handed over is written; throws the last write's failure, if it failed. */
    public synchronized void flush() throws IOException {
        while (pending != null || writing) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted waiting for the snapshot of run " + runId);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Writes what is pending, then stops the thread. */
    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            synchronized (this) {
                closed = true;
                notifyAll();
            }
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
