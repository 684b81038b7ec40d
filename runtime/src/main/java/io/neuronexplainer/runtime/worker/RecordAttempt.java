package io.neuronexplainer.runtime.worker;

import io.neuronexplainer.schemas.SchemaRegistryException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * One try at one record: decode it (here, not in the consumer, so a record that does not decode
 * is a dead letter with its raw bytes instead of a stopped worker), skip it when its identity was
 * already produced, process it, serialise its outputs, and classify a failure with {@link Faults}.
 * Every outcome goes back to the loop through {@link InFlightRecords#completed}.
 */
final class RecordAttempt<K, V> {
    private final Deserializer<K> keys;
    private final Deserializer<V> values;
    private final RecordProcessor<K, V> processor;
    private final ToIntFunction<Throwable> attemptsOf;
    private final Function<? super V, String> identityOf;
    private final ProcessedIdentities processed;
    private final OutputSerialiser serialiser;
    private final InFlightRecords inFlight;
    private final WorkerMeters meters;

    RecordAttempt(Deserializer<K> keys, Deserializer<V> values, RecordProcessor<K, V> processor, ToIntFunction<Throwable> attemptsOf,
                  Function<? super V, String> identityOf, ProcessedIdentities processed, OutputSerialiser serialiser,
                  InFlightRecords inFlight, WorkerMeters meters) {
        this.keys = keys;
        this.values = values;
        this.processor = processor;
        this.attemptsOf = attemptsOf;
        this.identityOf = identityOf;
        this.processed = processed;
        this.serialiser = serialiser;
        this.inFlight = inFlight;
        this.meters = meters;
    }

    /** Runs on the loop thread; the work itself runs wherever the processor runs it. */
    void start(PendingRecord r) {
        r.resetOutcome();
        r.startNanos = System.nanoTime();
        List<Output> made = r.unserialised;
        if (made != null) {
            // The work was done; only its serialisation failed. Off the loop: the registry may be slow.
            inFlight.running.incrementAndGet();
            CompletableFuture.supplyAsync(() -> made).whenComplete((outputs, error) -> finish(r, outputs, error));
            return;
        }
        K key;
        V value;
        try {
            key = keys.deserialize(r.raw.topic(), r.raw.headers(), r.raw.key());
            value = values.deserialize(r.raw.topic(), r.raw.headers(), r.raw.value());
        } catch (RuntimeException e) {
            fail(r, new SerializationException("cannot deserialise record: " + e.getMessage(), e), 1);
            return;
        }
        if (value == null) {
            // A tombstone on a compacted input: nothing to explain, but its offset still commits.
            r.outputs = List.of();
            inFlight.completed(r);
            return;
        }
        if (identityOf != null) {
            try {
                r.identity = identityOf.apply(value);
            } catch (RuntimeException e) {
                fail(r, e, 1);
                return;
            }
            if (processed.contains(r.partition.partition(), r.identity)) {
                r.outputs = List.of();
                r.duplicate = true;
                inFlight.completed(r);
                return;
            }
        }
        inFlight.running.incrementAndGet();
        CompletableFuture<List<Output>> future;
        try {
            future = processor.process(key, value);
            if (future == null) {
                future = CompletableFuture.failedFuture(new IllegalStateException("the processor returned no result"));
            }
        } catch (RuntimeException e) {
            future = CompletableFuture.failedFuture(e);
        }
        future.whenComplete((outputs, error) -> finish(r, outputs, error));
    }

    private void fail(PendingRecord r, Throwable failure, int attempts) {
        r.failure = failure;
        r.fault = Faults.classify(failure);
        r.attempts = attempts;
        inFlight.completed(r);
    }

    /** Runs on whichever thread completed the work: serialises the outputs there, off the loop. */
    private void finish(PendingRecord r, List<Output> outputs, Throwable error) {
        try {
            if (error == null) {
                try {
                    r.outputs = serialiser.serialise(outputs);
                    r.unserialised = null;
                } catch (SchemaRegistryException e) {
                    // Kept: when the registry answers again only the serialisation is redone.
                    r.unserialised = outputs;
                    error = e;
                } catch (RuntimeException e) {
                    error = e;
                }
            }
            if (error != null) {
                Throwable cause = unwrap(error);
                r.attempts = Math.max(1, attemptsOf.applyAsInt(cause));
                r.fault = Faults.classify(cause);
                r.failure = cause;
            }
            (r.failure == null ? meters.succeeded : meters.failed).record(System.nanoTime() - r.startNanos, TimeUnit.NANOSECONDS);
        } finally {
            inFlight.running.decrementAndGet();
            inFlight.completed(r);
        }
    }

    private static Throwable unwrap(Throwable e) {
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }
}
