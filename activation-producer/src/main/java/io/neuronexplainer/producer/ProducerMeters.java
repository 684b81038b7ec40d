package io.neuronexplainer.producer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The producer's meters: tokens read, windows done and expected per run, time in the forward pass
 * and in top-K, and which checkpoint is in progress, so a dashboard shows where a checkpoint is.
 */
public final class ProducerMeters {
    private final MeterRegistry registry;
    /** Per run: windows done, windows expected (estimated from the fraction done), in progress (0/1). */
    private final Map<String, long[]> runs = new ConcurrentHashMap<>();
    private final AtomicLong activeRuns = new AtomicLong();

    public ProducerMeters(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("producer.runs.active", activeRuns, AtomicLong::get)
                .description("Corpus passes running in this producer").register(registry);
    }

    /** A run's neuron records are written and committed. */
    public void emitted(RunIdentity run, long neurons) {
        Counter.builder("producer.neurons.emitted").tags("model", run.model(), "checkpoint", run.checkpoint(), "run", run.runId())
                .description("Neuron records written to neuron-activations").register(registry).increment(neurons);
    }

    /** {@code inner} told the same, while this run's meters follow the pass. */
    public PassProgress tracking(RunIdentity run, PassProgress inner) {
        Tags tags = Tags.of("model", run.model(), "checkpoint", run.checkpoint(), "run", run.runId());
        long[] state = runs.computeIfAbsent(run.runId(), id -> {
            long[] s = new long[3];
            Gauge.builder("producer.windows.done", s, x -> x[0]).tags(tags)
                    .description("Windows of the corpus pass done").register(registry);
            Gauge.builder("producer.windows.expected", s, x -> x[1]).tags(tags)
                    .description("Windows the pass will read (the window budget, or estimated from the corpus read so far)")
                    .register(registry);
            Gauge.builder("producer.checkpoint.in.progress", s, x -> x[2]).tags(tags)
                    .description("1 while this checkpoint's pass runs here").register(registry);
            return s;
        });
        Counter tokens = Counter.builder("producer.tokens").tags(tags).description("Corpus tokens run through the model")
                .register(registry);
        Timer forward = Timer.builder("producer.forward").tags(tags).description("The model's forward pass, per batch")
                .register(registry);
        Timer topK = Timer.builder("producer.topk").tags(tags).description("Top-K and sampling, per batch")
                .register(registry);
        return new PassProgress() {
            private long lastTokens;

            @Override
            public void started() {
                state[2] = 1;
                activeRuns.incrementAndGet();
                inner.started();
            }

            @Override
            public void update(long windows, long tokensDone, double fraction) {
                state[0] = windows;
                if (fraction > 0 && !Double.isNaN(fraction)) {
                    state[1] = Math.max(windows, Math.round(windows / fraction));
                }
                tokens.increment(Math.max(0, tokensDone - lastTokens));
                lastTokens = tokensDone;
                inner.update(windows, tokensDone, fraction);
            }

            @Override
            public void batch(long forwardNanos, long topKNanos) {
                forward.record(forwardNanos, TimeUnit.NANOSECONDS);
                topK.record(topKNanos, TimeUnit.NANOSECONDS);
                inner.batch(forwardNanos, topKNanos);
            }

            @Override
            public void finish() {
                state[1] = state[0];
                state[2] = 0;
                activeRuns.decrementAndGet();
                inner.finish();
            }
        };
    }
}
