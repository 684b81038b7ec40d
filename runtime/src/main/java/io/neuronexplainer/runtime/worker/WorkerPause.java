package io.neuronexplainer.runtime.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pause a worker takes when a fault would fail every record (the LLM refusing our key, a
 * model that is not there, the registry refusing our schema): dead-lettering would only drain the
 * input. The records that met it are held, uncommitted; one of them is tried again every
 * {@link FaultTiming#probeEvery()} and the first that gets past the fault ends the pause. While
 * paused the worker reads nothing new, is not ready, shows {@code worker_paused{reason}} = 1 and
 * says so in one line per {@link FaultTiming#pausedLogEvery()}.
 *
 * <p>Changed by the worker loop only; {@link #fault()} and {@link #message()} are read from any thread.
 */
final class WorkerPause {
    private static final Logger log = LoggerFactory.getLogger(WorkerPause.class);

    private final String stage;
    private final FaultTiming timing;
    private final MeterRegistry registry;
    private final Counter pauses;
    private final Set<String> gauges = ConcurrentHashMap.newKeySet();

    private volatile Fault fault;
    private volatile String message;
    private final List<PendingRecord> held = new ArrayList<>();
    private PendingRecord probe;
    private long sinceNanos;
    private long nextProbeNanos;
    private long lastLogNanos;

    WorkerPause(String stage, FaultTiming timing, MeterRegistry registry) {
        this.stage = stage;
        this.timing = timing;
        this.registry = registry;
        this.pauses = Counter.builder("worker.pauses").tag("stage", stage)
                .description("Times the worker paused on a fault that would fail every record").register(registry);
        // reason="any" from the start, so a dashboard and an alert see 0 before any pause, not no data.
        Gauge.builder("worker.paused", this, p -> p.fault != null ? 1 : 0).tag("stage", stage).tag("reason", "any")
                .strongReference(true).description("1 while the worker is paused on a fault that would fail every record")
                .register(registry);
    }

    boolean paused() {
        return fault != null;
    }

    /** Why the worker is paused, or null when it is not. */
    Fault fault() {
        return fault;
    }

    /** The failure that paused it, in one line, or null. */
    String message() {
        return message;
    }

    /** {@code r} met a fault that would fail every record: hold it, pausing now if not paused yet. */
    void hold(PendingRecord r, long nowNanos) {
        String line = oneLine(r.failure);
        if (r == probe) {
            probe = null;
            nextProbeNanos = nowNanos + timing.probeEvery().toNanos();
            fault = r.fault;
            message = line;
            log.debug("{}: still paused: {} tried again: {}", stage, r.where(), line);
        } else if (fault == null) {
            fault = r.fault;
            message = line;
            sinceNanos = nowNanos;
            lastLogNanos = nowNanos;
            nextProbeNanos = nowNanos + timing.probeEvery().toNanos();
            pauses.increment();
            gauge(r.fault.reason());
            log.warn("{} paused: {} ({}): it would fail every record, so none is dead-lettered; consumption paused, {} held, "
                    + "tried again every {} s", stage, line, r.fault.reason(), r.where(), seconds(timing.probeEvery()));
        }
        held.add(r);
    }

    /** The held record to try again now, or null: one at a time, once per probe interval. */
    PendingRecord probeDue(long nowNanos) {
        dropForgotten();
        if (fault == null || probe != null || nowNanos - nextProbeNanos < 0 || held.isEmpty()) {
            return null;
        }
        probe = held.remove(0);
        return probe;
    }

    boolean isProbe(PendingRecord r) {
        return r == probe;
    }

    /** Whether a pause has nothing left to try (its records' partitions went elsewhere): then the next record decides. */
    boolean nothingHeld() {
        dropForgotten();
        return fault != null && held.isEmpty() && probe == null;
    }

    /** The fault cleared: ends the pause and returns the records it held, to start again. */
    List<PendingRecord> resume(long nowNanos) {
        List<PendingRecord> again = new ArrayList<>(held);
        log.info("{} resumed after {} s: {} cleared; {} held record(s) start again", stage,
                seconds(Duration.ofNanos(nowNanos - sinceNanos)), fault.reason(), again.size());
        held.clear();
        probe = null;
        fault = null;
        message = null;
        return again;
    }

    /** One line per interval while paused, so a log reader sees it is still so and why. */
    void logIfDue(long nowNanos) {
        if (fault != null && nowNanos - lastLogNanos >= timing.pausedLogEvery().toNanos()) {
            lastLogNanos = nowNanos;
            log.warn("{} still paused after {} s: {} ({}); {} record(s) held, none dead-lettered; tried again every {} s", stage,
                    seconds(Duration.ofNanos(nowNanos - sinceNanos)), message, fault.reason(), held.size() + (probe == null ? 0 : 1),
                    seconds(timing.probeEvery()));
        }
    }

    private void dropForgotten() {
        held.removeIf(r -> r.forgotten);
        if (probe != null && probe.forgotten) {
            probe = null;
        }
    }

    /** One gauge per reason met, 1 while paused for it: {@code worker_paused{stage,reason}}. */
    private void gauge(String reason) {
        if (gauges.add(reason)) {
            Gauge.builder("worker.paused", this, p -> p.fault != null && p.fault.reason().equals(reason) ? 1 : 0)
                    .tag("stage", stage).tag("reason", reason).strongReference(true)
                    .description("1 while the worker is paused on a fault that would fail every record").register(registry);
        }
    }

    private static String seconds(Duration d) {
        return String.format("%.1f", d.toMillis() / 1000.0);
    }

    private static String oneLine(Throwable e) {
        String m = e == null ? "" : e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        m = m.replaceAll("\\s+", " ").trim();
        return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }
}
