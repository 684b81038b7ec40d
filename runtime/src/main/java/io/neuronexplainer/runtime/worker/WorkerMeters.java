package io.neuronexplainer.runtime.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.atomic.AtomicInteger;

/** A worker's Micrometer meters, tagged with its stage. */
final class WorkerMeters {
    final Counter done;
    final Counter deadLetters;
    final Counter transactions;
    final Counter rewinds;
    final Counter duplicatesSkipped;
    final Timer succeeded;
    final Timer failed;
    private final MeterRegistry registry;
    private final String stage;

    WorkerMeters(MeterRegistry registry, String stage, AtomicInteger inFlight) {
        this.registry = registry;
        this.stage = stage;
        done = Counter.builder("worker.records.done").tag("stage", stage)
                .description("Records whose outputs (or dead letter) and offset committed").register(registry);
        deadLetters = Counter.builder("worker.dead.letters").tag("stage", stage)
                .description("Records committed as dead letters").register(registry);
        transactions = Counter.builder("worker.transactions").tag("stage", stage)
                .description("Kafka transactions committed").register(registry);
        rewinds = Counter.builder("worker.rewinds").tag("stage", stage)
                .description("Aborted transactions after which the worker re-read from its committed offsets").register(registry);
        duplicatesSkipped = Counter.builder("worker.duplicates.skipped").tag("stage", stage)
                .description("Records committed without outputs because their identity had already been produced").register(registry);
        succeeded = Timer.builder("worker.process.latency").tag("stage", stage).tag("outcome", "ok")
                .description("Time from the start to the end of a record's processing").publishPercentileHistogram().register(registry);
        // A histogram too: Prometheus cannot scrape one name as a histogram for one tag and a summary for another.
        failed = Timer.builder("worker.process.latency").tag("stage", stage).tag("outcome", "failed")
                .description("Time from the start to the end of a record's processing").publishPercentileHistogram().register(registry);
        Gauge.builder("worker.in.flight", inFlight, AtomicInteger::get).tag("stage", stage)
                .description("Records being processed now").register(registry);
    }

    /** Records tried again after a transient fault, by the fault's reason. */
    Counter retries(String reason) {
        return Counter.builder("worker.retries").tag("stage", stage).tag("reason", reason)
                .description("Records tried again after a transient fault (never dead-lettered for it)").register(registry);
    }
}
