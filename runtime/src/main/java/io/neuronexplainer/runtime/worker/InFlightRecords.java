package io.neuronexplainer.runtime.worker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The records read and not yet committed: per partition in offset order (a partition's offset
 * only advances over its contiguous finished prefix), the ones not started yet, the ones waiting
 * to be tried again, and the completions handed back by the threads that ran them.
 *
 * <p>Owned by the worker loop, except {@link #completed} and {@link #running}, which any thread uses.
 */
final class InFlightRecords {
    /** Records being processed now (they hold an LLM call), whatever their partition's fate since. */
    final AtomicInteger running = new AtomicInteger();

    private final LinkedBlockingQueue<PendingRecord> completions = new LinkedBlockingQueue<>();
    private final Map<TopicPartition, ArrayDeque<PendingRecord>> pending = new HashMap<>();
    private final ArrayDeque<PendingRecord> backlog = new ArrayDeque<>();
    private final List<PendingRecord> waiting = new ArrayList<>();

    void add(ConsumerRecord<byte[], byte[]> raw) {
        PendingRecord r = new PendingRecord(raw);
        pending.computeIfAbsent(r.partition, p -> new ArrayDeque<>()).add(r);
        backlog.add(r);
    }

    /** Records tracked from poll to commit, in whatever state. */
    long tracked() {
        long n = 0;
        for (ArrayDeque<PendingRecord> q : pending.values()) {
            n += q.size();
        }
        return n;
    }

    boolean backlogEmpty() {
        return backlog.isEmpty();
    }

    /** Records not started are left for the partition's next reader. */
    void clearBacklog() {
        backlog.clear();
    }

    /**
     * The next record to start while fewer than {@code maxInFlight} run: a retry that is due first
     * (it is older), then the backlog; null when there is none or no slot.
     */
    PendingRecord next(int maxInFlight, long nowNanos) {
        if (running.get() >= maxInFlight) {
            return null;
        }
        for (Iterator<PendingRecord> it = waiting.iterator(); it.hasNext(); ) {
            PendingRecord r = it.next();
            if (r.forgotten) {
                it.remove();
            } else if (nowNanos - r.retryAtNanos >= 0) {
                it.remove();
                return r;
            }
        }
        return backlog.poll();
    }

    /** Keeps {@code r} (and its partition's offset) where it is until {@code atNanos}, then {@link #next} returns it. */
    void retryAt(PendingRecord r, long atNanos) {
        r.retryAtNanos = atNanos;
        waiting.add(r);
    }

    /** Puts records back before the backlog, in the given order, e.g. the ones a pause held. */
    void startFirst(List<PendingRecord> records) {
        for (int i = records.size() - 1; i >= 0; i--) {
            if (!records.get(i).forgotten) {
                backlog.addFirst(records.get(i));
            }
        }
    }

    int waitingForRetry() {
        waiting.removeIf(r -> r.forgotten);
        return waiting.size();
    }

    /** Hands a record's outcome back to the loop; any thread. */
    void completed(PendingRecord r) {
        completions.add(r);
    }

    /** The outcomes handed back so far, waiting up to {@code waitMs} for the first. */
    List<PendingRecord> takeCompleted(long waitMs) throws InterruptedException {
        List<PendingRecord> done = new ArrayList<>();
        PendingRecord r = waitMs > 0 ? completions.poll(waitMs, TimeUnit.MILLISECONDS) : completions.poll();
        while (r != null) {
            if (!r.forgotten) {
                done.add(r);
            }
            r = completions.poll();
        }
        return done;
    }

    /** Every partition's contiguous finished prefix. */
    Map<TopicPartition, List<PendingRecord>> committable() {
        Map<TopicPartition, List<PendingRecord>> ready = new LinkedHashMap<>();
        for (var entry : pending.entrySet()) {
            List<PendingRecord> prefix = new ArrayList<>();
            for (PendingRecord r : entry.getValue()) {
                if (!r.finished) {
                    break;
                }
                prefix.add(r);
            }
            if (!prefix.isEmpty()) {
                ready.put(entry.getKey(), prefix);
            }
        }
        return ready;
    }

    /** Drops the records a transaction committed. */
    void removeCommitted(Map<TopicPartition, List<PendingRecord>> committed) {
        for (var entry : committed.entrySet()) {
            ArrayDeque<PendingRecord> q = pending.get(entry.getKey());
            for (int i = 0; i < entry.getValue().size(); i++) {
                q.poll();
            }
            if (q.isEmpty()) {
                pending.remove(entry.getKey());
            }
        }
    }

    Set<TopicPartition> partitions() {
        return Set.copyOf(pending.keySet());
    }

    /** The oldest uncommitted record of {@code p}: where its next reader starts. */
    PendingRecord first(TopicPartition p) {
        ArrayDeque<PendingRecord> q = pending.get(p);
        return q == null ? null : q.peekFirst();
    }

    /**
     * Drops a partition's uncommitted records; whoever reads it next starts from its committed
     * offset. Calls still running are left to finish (they keep counting against the in-flight
     * bound while they hold an LLM connection) and their results are ignored.
     */
    void forget(TopicPartition p) {
        ArrayDeque<PendingRecord> q = pending.remove(p);
        if (q != null) {
            q.forEach(r -> r.forgotten = true);
        }
        backlog.removeIf(r -> r.partition.equals(p));
        waiting.removeIf(r -> r.partition.equals(p));
    }

    void clear() {
        for (TopicPartition p : partitions()) {
            forget(p);
        }
    }
}
