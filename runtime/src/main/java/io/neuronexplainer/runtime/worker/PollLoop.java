package io.neuronexplainer.runtime.worker;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's loop: polls its partitions, starts records up to the in-flight bound, acts on each
 * outcome by its {@link FaultClass} (commit it, try it again later, or hold it and pause),
 * commits on the interval, stops reading while records pile up or while paused, and hands its
 * partitions over on a rebalance after committing what is finished.
 */
final class PollLoop {
    private static final Logger log = LoggerFactory.getLogger(PollLoop.class);
    private static final Duration POLL = Duration.ofMillis(50);

    private final WorkerSettings settings;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final InFlightRecords inFlight;
    private final RecordAttempt<?, ?> attempt;
    private final TransactionCommitter committer;
    private final ProcessedIdentities processed;
    private final WorkerPause pause;
    private final WorkerHealth health;
    private final WorkerProgress progress;
    private final WorkerMeters meters;
    private final BooleanSupplier stopRequested;
    private final FatalClientErrors fatalErrors;

    private boolean interrupted;
    /** A failure inside the rebalance callback, rethrown from poll's caller. */
    private RuntimeException fatal;
    private long lastCommitNanos = System.nanoTime();
    private long lastAssignedNanos = System.nanoTime();

    PollLoop(WorkerSettings settings, KafkaConsumer<byte[], byte[]> consumer, InFlightRecords inFlight, RecordAttempt<?, ?> attempt,
             TransactionCommitter committer, ProcessedIdentities processed, WorkerPause pause, WorkerHealth health,
             WorkerProgress progress, WorkerMeters meters, BooleanSupplier stopRequested) {
        this.settings = settings;
        this.consumer = consumer;
        this.inFlight = inFlight;
        this.attempt = attempt;
        this.committer = committer;
        this.processed = processed;
        this.pause = pause;
        this.health = health;
        this.progress = progress;
        this.meters = meters;
        this.stopRequested = stopRequested;
        this.fatalErrors = new FatalClientErrors(settings);
    }

    ConsumerRebalanceListener rebalanceListener() {
        return new Handover();
    }

    /** Runs until asked to stop, or idle for {@code exitWhenIdle}; returns why it stopped. */
    String run() {
        long lastInput = System.nanoTime();
        long drainDeadline = 0;
        boolean draining = false;
        while (true) {
            health.turned();
            if ((stopRequested.getAsBoolean() || interrupted) && !draining) {
                draining = true;
                drainDeadline = System.nanoTime() + settings.drainTimeout().toNanos();
                // Records not started are left for the next owner; the ones running get to finish.
                inFlight.clearBacklog();
                log.info("{} stopping: finishing {} records in flight", settings.stage(), inFlight.running.get());
            }
            boolean wantInput = !draining && !pause.paused() && inFlight.backlogEmpty()
                    && inFlight.tracked() < 4L * settings.maxInFlight() + 500;
            updateReading(wantInput);
            var records = pollConsumer(wantInput ? POLL : Duration.ZERO);
            loadProcessedIdentities(records);
            for (ConsumerRecord<byte[], byte[]> raw : records) {
                inFlight.add(raw);
                lastInput = System.nanoTime();
            }
            startRecords(draining);
            // Nothing new to read: wait for a call to finish, which frees a slot or makes a commit possible.
            settle(takeCompleted(wantInput ? 0 : POLL.toMillis()));
            startRecords(draining);
            pause.logIfDue(System.nanoTime());
            boolean dueCommit = System.nanoTime() - lastCommitNanos >= settings.commitInterval().toNanos();
            if (dueCommit || draining) {
                commit();
            }
            if (draining) {
                if (inFlight.running.get() == 0 || System.nanoTime() > drainDeadline) {
                    commit();
                    return "stopped";
                }
            } else if (settings.exitWhenIdle() != null && inFlight.tracked() == 0
                    // Idle counts from the last input or the last assignment, whichever is later:
                    // a slow group join is not idleness.
                    && System.nanoTime() - Math.max(lastInput, lastAssignedNanos) >= settings.exitWhenIdle().toNanos()) {
                return "idle for " + settings.exitWhenIdle().toMillis() / 1000.0 + " s";
            }
        }
    }

    private Iterable<ConsumerRecord<byte[], byte[]>> pollConsumer(Duration timeout) {
        try {
            var records = consumer.poll(timeout);
            if (fatal != null) {
                throw fatal;
            }
            return records;
        } catch (WakeupException e) {
            return List.of();
        } catch (FencedInstanceIdException e) {
            throw fatalErrors.stop("another instance joined group " + settings.groupId() + " with instance id " + settings.instanceId(), e);
        }
    }

    /**
     * Reads the identities already produced for partitions whose first records just arrived:
     * only now is their committed offset known to be stable (see {@link ProcessedIdentities}).
     */
    private void loadProcessedIdentities(Iterable<ConsumerRecord<byte[], byte[]>> records) {
        if (processed == null) {
            return;
        }
        Set<Integer> toLoad = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> raw : records) {
            if (!processed.isLoaded(raw.partition())) {
                toLoad.add(raw.partition());
            }
        }
        if (!toLoad.isEmpty()) {
            processed.load(toLoad);
        }
    }

    /**
     * Reading stops while records wait for a slot (they would only pile up in memory) and while
     * paused; polling goes on either way, so the instance stays in its group.
     */
    private void updateReading(boolean wantInput) {
        Set<TopicPartition> owned = consumer.assignment();
        if (wantInput) {
            Set<TopicPartition> paused = consumer.paused();
            if (!paused.isEmpty()) {
                consumer.resume(paused);
            }
        } else if (!owned.isEmpty() && !consumer.paused().containsAll(owned)) {
            consumer.pause(owned);
        }
    }

    /** Starts what may start: while paused only the probe, otherwise due retries and the backlog up to the in-flight bound. */
    private void startRecords(boolean draining) {
        if (draining) {
            return;
        }
        long now = System.nanoTime();
        if (pause.paused()) {
            if (pause.nothingHeld()) {
                resume(now);
            } else {
                PendingRecord probe = pause.probeDue(now);
                if (probe != null) {
                    log.info("{}: paused; trying {} again", settings.stage(), probe.where());
                    attempt.start(probe);
                    settle(takeCompleted(0));
                }
                return;
            }
        }
        PendingRecord r;
        while (!pause.paused() && (r = inFlight.next(settings.maxInFlight(), now)) != null) {
            attempt.start(r);
            // Outcomes known at once (a record that does not decode) are acted on before the next start.
            settle(takeCompleted(0));
        }
    }

    private List<PendingRecord> takeCompleted(long waitMs) {
        try {
            return inFlight.takeCompleted(waitMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            interrupted = true;
            return List.of();
        }
    }

    /** Acts on finished attempts by their fault class. */
    private void settle(List<PendingRecord> outcomes) {
        for (PendingRecord r : outcomes) {
            long now = System.nanoTime();
            boolean probe = pause.isProbe(r);
            FaultClass kind = r.fault == null ? null : r.fault.kind();
            if (kind == FaultClass.FAILS_EVERY_RECORD) {
                pause.hold(r, now);
                continue;
            }
            if (probe) {
                // The probe got past the fault, whatever else became of it.
                resume(now);
            }
            if (kind == FaultClass.TRANSIENT) {
                retryLater(r, now);
            } else {
                r.finished = true;
            }
        }
    }

    private void resume(long now) {
        inFlight.startFirst(pause.resume(now));
    }

    private void retryLater(PendingRecord r, long now) {
        r.retries++;
        Duration wait = settings.faultTiming().retryWait(r.retries);
        progress.retries++;
        meters.retries(r.fault.reason()).increment();
        String message = r.failure.getMessage() == null ? r.failure.getClass().getSimpleName() : r.failure.getMessage();
        log.warn("{}: {} met a transient fault ({}); trying again in {} ms (retry {}), not a dead letter: {}", settings.stage(),
                r.where(), r.fault.reason(), wait.toMillis(), r.retries, message.replaceAll("\\s+", " "));
        inFlight.retryAt(r, now + wait.toNanos());
    }

    /** Commits every partition's contiguous finished prefix: its outputs and its next offset, in one transaction. */
    private void commit() {
        lastCommitNanos = System.nanoTime();
        var ready = inFlight.committable();
        if (ready.isEmpty()) {
            return;
        }
        TransactionCommitter.Committed committed = committer.commit(ready, consumer.groupMetadata());
        if (committed == null) {
            rewind();
            return;
        }
        inFlight.removeCommitted(ready);
        progress.committed(committed);
        meters.transactions.increment();
        meters.done.increment(committed.total());
        meters.deadLetters.increment(committed.deadLetters());
        meters.duplicatesSkipped.increment(committed.duplicates());
        if (committed.duplicates() > 0) {
            log.debug("{}: {} records skipped: their identity was already produced", settings.stage(), committed.duplicates());
        }
    }

    /**
     * An aborted transaction wrote nothing: forget every uncommitted record and re-read from the
     * committed offsets, so they are processed (and committed) again.
     */
    private void rewind() {
        progress.rewinds++;
        meters.rewinds.increment();
        Set<TopicPartition> owned = consumer.assignment();
        for (TopicPartition p : inFlight.partitions()) {
            PendingRecord first = inFlight.first(p);
            if (owned.contains(p) && first != null) {
                consumer.seek(p, first.offset());
            }
            inFlight.forget(p);
        }
    }

    /** Forgets a partition that is no longer this instance's, and the identities produced for it. */
    private void release(TopicPartition p) {
        inFlight.forget(p);
        if (processed != null) {
            processed.drop(p.partition());
        }
    }

    /** Commits what is finished before partitions go; never commits for partitions already gone. */
    private final class Handover implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty() || fatal != null) {
                return;
            }
            settle(takeCompleted(0));
            try {
                commit();
            } catch (RuntimeException e) {
                fatal = e;
            }
            partitions.forEach(PollLoop.this::release);
            progress.assignment = Set.copyOf(consumer.assignment().stream().filter(p -> !partitions.contains(p)).toList());
            log.info("{} {}: partitions revoked: {}", settings.stage(), settings.instanceId(), partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            partitions.forEach(PollLoop.this::release);
            progress.assignment = Set.copyOf(consumer.assignment().stream().filter(p -> !partitions.contains(p)).toList());
            log.info("{} {}: partitions lost: {}", settings.stage(), settings.instanceId(), partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (processed != null) {
                // Whatever was known of these is stale: another owner may have produced since.
                partitions.forEach(p -> processed.drop(p.partition()));
            }
            progress.assignment = Set.copyOf(consumer.assignment());
            lastAssignedNanos = System.nanoTime();
            log.info("{} {}: partitions assigned: {}", settings.stage(), settings.instanceId(), partitions);
        }
    }
}
