package io.neuronexplainer.producer;

import io.neuronexplainer.runtime.DaemonThreads;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pass's run records (STARTED, RUNNING, a shard's COMPLETED, FAILED), written in order on a thread
 * of their own with the transactional producer it opens there: opening it (~0.5 s) and each commit
 * wait on the broker, so the pass runs meanwhile instead of waiting. A write that fails fails every
 * later one; {@link #check} and {@link #await} rethrow it on the pass's thread.
 */
final class RunRecords implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RunRecords.class);

    private final ExecutorService thread = Executors.newSingleThreadExecutor(DaemonThreads.named("run-records"));
    private final CompletableFuture<KafkaProducer<byte[], byte[]>> producer;
    /** Completes when every write so far is committed, or with the first write's failure. */
    private CompletableFuture<Void> written;

    RunRecords(Supplier<KafkaProducer<byte[], byte[]>> open) {
        producer = CompletableFuture.supplyAsync(open, thread);
        written = producer.thenApply(p -> null);
    }

    /** Runs {@code write} with the producer after every earlier write, unless one of those failed. */
    void write(Consumer<KafkaProducer<byte[], byte[]>> write) {
        written = written.thenRunAsync(() -> write.accept(producer.join()), thread);
    }

    /** Throws the failure of a write that has failed by now, if any; never waits. */
    void check() {
        if (written.isCompletedExceptionally()) {
            await();
        }
    }

    /** Waits until every write so far is committed; throws the first failure. */
    void await() {
        try {
            written.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /**
     * Runs {@code writeFailure} with the producer after every earlier write, whether or not they
     * failed, and waits for it; without a producer (opening it failed) there is nothing to write with.
     */
    void fail(Consumer<KafkaProducer<byte[], byte[]>> writeFailure) {
        if (!afterEveryWrite(writeFailure).join()) {
            log.warn("the run's failure cannot be recorded: its producer did not open ({})", cause(producer));
        }
    }

    /** Closes the producer on the records thread after every write, then ends that thread. */
    @Override
    public void close() {
        afterEveryWrite(KafkaProducer::close).whenComplete((ignored, failure) -> {
            if (failure != null) {
                log.warn("the run's producer did not close cleanly: {}", failure.getMessage());
            }
        });
        thread.shutdown();
        try {
            if (!thread.awaitTermination(5, TimeUnit.MINUTES)) {
                log.warn("run records still being written 5 minutes after the pass ended");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the records thread still closes the producer
        }
    }

    /** Runs {@code action} on the records thread after every earlier write, failed or not; false when the producer did not open. */
    private CompletableFuture<Boolean> afterEveryWrite(Consumer<KafkaProducer<byte[], byte[]>> action) {
        return written.handleAsync((ignored, earlier) -> {
            if (producer.isCompletedExceptionally()) {
                return false;
            }
            action.accept(producer.join());
            return true;
        }, thread);
    }

    private static String cause(CompletableFuture<?> failed) {
        try {
            failed.join();
            return "";
        } catch (CompletionException e) {
            return e.getCause() == null ? e.getMessage() : e.getCause().toString();
        }
    }
}
