package io.neuronexplainer.runtime.worker;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs a worker as a service's main work: SIGTERM (or Ctrl-C) makes it finish the records in
 * flight, commit them and stop; the one-line summary goes to stdout at the end.
 */
public final class WorkerLifecycle {
    private WorkerLifecycle() {}

    public static WorkerSummary runUntilStopped(TransactionalWorker<?, ?> worker, WorkerSettings settings) {
        CountDownLatch ended = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            worker.stop();
            try {
                // The JVM exits when hooks end: give the worker its drain time to commit first.
                ended.await(settings.drainTimeout().toSeconds() + 15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, settings.stage() + "-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            WorkerSummary summary = worker.run();
            System.out.println(summary.line());
            System.out.flush();
            return summary;
        } finally {
            ended.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Stopped by a signal: the hook is running and now returns.
            }
        }
    }
}
