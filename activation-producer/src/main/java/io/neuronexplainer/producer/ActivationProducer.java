package io.neuronexplainer.producer;

import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.RunState;
import io.neuronexplainer.schemas.Topics;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The activation-producer service: runs a {@link CorpusPass} and writes its records to Kafka.
 * A CheckpointRun STARTED record goes out once the corpus is known to have windows, RUNNING
 * records with progress (windows done / total, ETA) every {@link #RUNNING_EVERY}; then all
 * NeuronActivations records and the COMPLETED record are written in ONE transaction, so
 * read_committed consumers see either the whole run or none of it; on failure the
 * transaction is aborted and a FAILED record with the message is written.
 *
 * <p>The transactional id is derived from (model, checkpoint, corpus), so a second run of the
 * same key fences a zombie first one instead of interleaving with it.
 */
public final class ActivationProducer {
    private static final Logger log = LoggerFactory.getLogger(ActivationProducer.class);
    /** Ample for sending a large model's records (the transaction only spans the emission). */
    static final int TRANSACTION_TIMEOUT_MS = 900_000;
    /** How often a RUNNING record reports the pass's progress, by default. */
    static final Duration RUNNING_EVERY = Duration.ofSeconds(10);

    /** What the run's records say beyond its identity: the checkpoint's step, the neurons asked for, the window budget. */
    public record RunDetails(Long step, String neurons, long windowBudget) {
        public static final RunDetails NONE = new RunDetails(null, "", 0);
    }

    public static final String STAGE = "activation-producer";

    private final KafkaClients clients;
    private final long runningEveryNanos;

    public ActivationProducer(KafkaClients clients) {
        this(clients, RUNNING_EVERY);
    }

    /** @param runningEvery how often a RUNNING progress record is written during the pass */
    public ActivationProducer(KafkaClients clients, Duration runningEvery) {
        this.clients = clients;
        this.runningEveryNanos = runningEvery.toNanos();
    }

    /** Runs the pass and emits every neuron's record; returns the counts. Throws, after writing FAILED, on error. */
    public ProduceSummary produce(RunIdentity run, CorpusPass pass, WindowCutter cutter, PassProgress progress)
            throws IOException {
        return produce(run, pass, cutter, progress, null, RunDetails.NONE);
    }

    /** As {@link #produce(RunIdentity, CorpusPass, WindowCutter, PassProgress)}, emitting only the selected neurons (null = all). */
    public ProduceSummary produce(RunIdentity run, CorpusPass pass, WindowCutter cutter, PassProgress progress,
                                  NeuronSelection selection, RunDetails details) throws IOException {
        Map<String, Object> config = clients.producer("activation-producer-" + run.model() + "-" + run.checkpoint()
                + "-" + run.corpus());
        config.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, TRANSACTION_TIMEOUT_MS);
        long startNanos = System.nanoTime();
        Instant startedAt = Instant.now();
        CheckpointRunKey runKey = new CheckpointRunKey(run.model(), run.checkpoint(), run.corpus(), run.runId());
        long neuronsTotal = selection == null ? (long) pass.layers().length * pass.neuronsPerLayer()
                : selection.count(pass.neuronsPerLayer());
        try (KafkaProducer<SpecificRecord, SpecificRecord> producer = new KafkaProducer<>(config,
                new AvroSerializer<>(clients.registry(), true), new AvroSerializer<>(clients.registry(), false))) {
            producer.initTransactions();
            log.info("transactional producer ready in {} ms", (System.nanoTime() - startNanos) / 1_000_000);
            boolean[] started = {false};
            try {
                PassResult result = pass.run(cutter, run.corpus(), () -> {
                    writeState(producer, runKey, state(run, details, RunState.STARTED, pass, neuronsTotal, 0, 0, 0, null,
                            null, startedAt));
                    started[0] = true;
                    log.info("run {}: {} / {} over corpus {} started", run.runId(), run.model(), run.checkpoint(),
                            run.corpus());
                }, new RunningRecords(progress, producer, runKey, run, details, pass, neuronsTotal, startedAt));

                long emitStart = System.nanoTime();
                producer.beginTransaction();
                AtomicReference<Exception> sendError = new AtomicReference<>();
                long[] sent = {0};
                pass.emit(run, Instant.now(), record -> {
                    if (selection != null && !selection.includes(record.getNeuron().getLayer(), record.getNeuron().getNeuron())) {
                        return;
                    }
                    sent[0]++;
                    producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, record.getNeuron(), record),
                            (metadata, e) -> {
                                if (e != null) {
                                    sendError.compareAndSet(null, e);
                                }
                            });
                });
                long emitted = sent[0];
                producer.send(new ProducerRecord<>(Topics.CHECKPOINT_RUNS, runKey, state(run, details, RunState.COMPLETED,
                        pass, neuronsTotal, emitted, result.windows(), result.tokens(), null, 0.0, startedAt)));
                producer.flush();
                if (sendError.get() != null) {
                    throw new KafkaException("cannot write to " + Topics.NEURON_ACTIVATIONS + ": "
                            + sendError.get().getMessage(), sendError.get());
                }
                producer.commitTransaction();
                log.info("run {}: {} neuron records written and committed in {} s", run.runId(), emitted,
                        String.format("%.1f", (System.nanoTime() - emitStart) / 1e9));
                return new ProduceSummary(run, result, emitted, (System.nanoTime() - startNanos) / 1e9);
            } catch (RuntimeException | IOException e) {
                if (started[0]) {
                    fail(producer, runKey, run, details, pass, neuronsTotal, startedAt, e);
                }
                throw e;
            }
        }
    }

    private void fail(KafkaProducer<SpecificRecord, SpecificRecord> producer, CheckpointRunKey runKey, RunIdentity run,
                      RunDetails details, CorpusPass pass, long neuronsTotal, Instant startedAt, Exception cause) {
        try {
            producer.abortTransaction();
        } catch (RuntimeException ignored) {
            // No transaction was open (the failure came during the pass): nothing to abort.
        }
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        try {
            writeState(producer, runKey, state(run, details, RunState.FAILED, pass, neuronsTotal, 0, 0, 0, message, null,
                    startedAt));
        } catch (RuntimeException e) {
            log.warn("run {}: could not write its FAILED record: {}", run.runId(), e.getMessage());
        }
    }

    private static void writeState(KafkaProducer<SpecificRecord, SpecificRecord> producer, CheckpointRunKey key,
                                   CheckpointRun state) {
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(Topics.CHECKPOINT_RUNS, key, state));
        producer.commitTransaction();
    }

    private static CheckpointRun state(RunIdentity run, RunDetails details, RunState state, CorpusPass pass,
                                       long neuronsTotal, long emitted, long windows, long tokens, String message,
                                       Double etaSeconds, Instant startedAt) {
        return new CheckpointRun(run.model(), run.checkpoint(), run.corpus(), run.runId(), state,
                pass.layers().length, neuronsTotal, emitted, windows, tokens,
                details.windowBudget() > 0 ? details.windowBudget() : null, etaSeconds, details.neurons(), details.step(),
                STAGE, message, startedAt, Instant.now());
    }

    /** Passes progress on, and every {@code runningEveryNanos} writes a RUNNING record with windows done, total and ETA. */
    private final class RunningRecords implements PassProgress {
        private final PassProgress inner;
        private final KafkaProducer<SpecificRecord, SpecificRecord> producer;
        private final CheckpointRunKey key;
        private final RunIdentity run;
        private final RunDetails details;
        private final CorpusPass pass;
        private final long neuronsTotal;
        private final Instant startedAt;
        private long passStart = System.nanoTime();
        private long lastWritten = passStart;

        RunningRecords(PassProgress inner, KafkaProducer<SpecificRecord, SpecificRecord> producer, CheckpointRunKey key,
                       RunIdentity run, RunDetails details, CorpusPass pass, long neuronsTotal, Instant startedAt) {
            this.inner = inner;
            this.producer = producer;
            this.key = key;
            this.run = run;
            this.details = details;
            this.pass = pass;
            this.neuronsTotal = neuronsTotal;
            this.startedAt = startedAt;
        }

        @Override
        public void started() {
            passStart = System.nanoTime();
            lastWritten = passStart;
            inner.started();
        }

        @Override
        public void update(long windows, long tokens, double fraction) {
            inner.update(windows, tokens, fraction);
            long now = System.nanoTime();
            if (now - lastWritten < runningEveryNanos) {
                return;
            }
            lastWritten = now;
            double elapsed = (now - passStart) / 1e9;
            Double eta = Double.isNaN(fraction) || fraction <= 0 ? null : elapsed * (1 - fraction) / fraction;
            writeState(producer, key, state(run, details, RunState.RUNNING, pass, neuronsTotal, 0, windows, tokens, null,
                    eta, startedAt));
        }

        @Override
        public void finish() {
            inner.finish();
        }
    }
}
