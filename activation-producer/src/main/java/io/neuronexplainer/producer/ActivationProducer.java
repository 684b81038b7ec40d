package io.neuronexplainer.producer;

import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.RunState;
import io.neuronexplainer.schemas.Topics;
import java.io.IOException;
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
 * A CheckpointRun STARTED record goes out once the corpus is known to have windows; then all
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

    private final KafkaClients clients;

    public ActivationProducer(KafkaClients clients) {
        this.clients = clients;
    }

    /** Runs the pass and emits every neuron's record; returns the counts. Throws, after writing FAILED, on error. */
    public ProduceSummary produce(RunIdentity run, CorpusPass pass, WindowCutter cutter, PassProgress progress)
            throws IOException {
        return produce(run, pass, cutter, progress, null);
    }

    /** As {@link #produce(RunIdentity, CorpusPass, WindowCutter, PassProgress)}, emitting only the selected neurons (null = all). */
    public ProduceSummary produce(RunIdentity run, CorpusPass pass, WindowCutter cutter, PassProgress progress,
                                  NeuronSelection selection) throws IOException {
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
                    writeState(producer, runKey, state(run, RunState.STARTED, pass, neuronsTotal, 0, 0, 0, null,
                            startedAt));
                    started[0] = true;
                    log.info("run {}: {} / {} over corpus {} started", run.runId(), run.model(), run.checkpoint(),
                            run.corpus());
                }, progress);

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
                producer.send(new ProducerRecord<>(Topics.CHECKPOINT_RUNS, runKey, state(run, RunState.COMPLETED,
                        pass, neuronsTotal, emitted, result.windows(), result.tokens(), null, startedAt)));
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
                    fail(producer, runKey, run, pass, neuronsTotal, startedAt, e);
                }
                throw e;
            }
        }
    }

    private void fail(KafkaProducer<SpecificRecord, SpecificRecord> producer, CheckpointRunKey runKey, RunIdentity run,
                      CorpusPass pass, long neuronsTotal, Instant startedAt, Exception cause) {
        try {
            producer.abortTransaction();
        } catch (RuntimeException ignored) {
            // No transaction was open (the failure came during the pass): nothing to abort.
        }
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        try {
            writeState(producer, runKey, state(run, RunState.FAILED, pass, neuronsTotal, 0, 0, 0, message, startedAt));
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

    private static CheckpointRun state(RunIdentity run, RunState state, CorpusPass pass, long neuronsTotal,
                                       long emitted, long windows, long tokens, String message, Instant startedAt) {
        return new CheckpointRun(run.model(), run.checkpoint(), run.corpus(), run.runId(), state,
                pass.layers().length, neuronsTotal, emitted, windows, tokens, null, null, "", null, "activation-producer", message,
                startedAt, Instant.now());
    }
}
