package io.neuronexplainer.producer;

import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.RunState;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronPartitioner;
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
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The activation-producer's writes to Kafka around a {@link CorpusPass}, in two steps that can run
 * in different processes:
 * <ol>
 *   <li>{@link #pass}: runs (or continues) the pass over a shard of the corpus, writing a STARTED
 *   record once the corpus is known to have windows and RUNNING records with progress (windows done
 *   / total, ETA) every {@link #RUNNING_EVERY}, and handing snapshots of the pass state on;</li>
 *   <li>{@link #emit}: from a complete state, writes every neuron's record in transactions of
 *   {@link EmitTransactions} records, each with a RUNNING record saying how many neurons are committed,
 *   so a producer killed while emitting is resumed after them and nothing is written twice; the
 *   last transaction holds the COMPLETED record.</li>
 * </ol>
 * A failure writes a FAILED record with the message. Transactional ids are derived from the run id
 * (and the shard), so a second process doing the same work fences a zombie first one.
 */
public final class ActivationProducer {
    private static final Logger log = LoggerFactory.getLogger(ActivationProducer.class);
    /** Ample for a transaction of one batch of records. */
    static final int TRANSACTION_TIMEOUT_MS = 900_000;
    /** How often a RUNNING record reports the pass's progress, by default. */
    static final Duration RUNNING_EVERY = Duration.ofSeconds(10);
    /**
     * Neuron records per emission transaction: {@code first} (about 3 MB of GPT-2 small's records at
     * 256), small so the explainers (reading committed records only) start on the first while the
     * rest are written; {@code later} once {@code laterAfter} are written, when the explainers have
     * more than they can take and each commit's wait for the broker (~30 ms: 4-5 s of GPT-2 small's
     * 36,864 records in transactions of 256) is worth saving.
     */
    record EmitTransactions(int first, int later, long laterAfter) {
        static final EmitTransactions DEFAULT = new EmitTransactions(256, 1024, 4096);

        int size(long writtenBefore) {
            return writtenBefore < laterAfter ? first : later;
        }
    }

    /** Threads building and encoding neuron records while one sends them: one per core, up to 4. */
    static final int EMIT_THREADS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    public static final String STAGE = "activation-producer";

    /**
     * What the run's records say beyond its identity: the checkpoint's step, the neurons asked for,
     * the window budget, and the shard of the pass a process runs (-1 for the whole run).
     */
    public record RunDetails(Long step, String neurons, long windowBudget, int shard, int shards, long runWindows) {
        public static final RunDetails NONE = new RunDetails(null, "", 0);

        public RunDetails(Long step, String neurons, long windowBudget) {
            this(step, neurons, windowBudget, -1, 1, 0);
        }

        /** @param runWindows windows of the whole run when known (a planned shard knows them), else 0 */
        public RunDetails(Long step, String neurons, long windowBudget, int shard, int shards, long runWindows) {
            this.step = step;
            this.neurons = neurons;
            this.windowBudget = windowBudget;
            this.shard = shard;
            this.shards = shards;
            this.runWindows = runWindows;
        }

        RunDetails forShard(int shard, int shards) {
            return new RunDetails(step, neurons, windowBudget, shard, shards, runWindows);
        }
    }

    private final KafkaClients clients;
    private final long runningEveryNanos;
    private final EmitTransactions transactions;
    // Records are encoded before they reach the producer, so that the emission can encode on
    // several threads; the producers themselves carry bytes.
    private final AvroSerializer<SpecificRecord> keys;
    private final AvroSerializer<SpecificRecord> values;

    public ActivationProducer(KafkaClients clients) {
        this(clients, RUNNING_EVERY);
    }

    /** @param runningEvery how often a RUNNING progress record is written during the pass */
    public ActivationProducer(KafkaClients clients, Duration runningEvery) {
        this(clients, runningEvery, EmitTransactions.DEFAULT);
    }

    ActivationProducer(KafkaClients clients, Duration runningEvery, EmitTransactions transactions) {
        this.clients = clients;
        this.runningEveryNanos = runningEvery.toNanos();
        this.transactions = transactions;
        this.keys = new AvroSerializer<>(clients.registry(), true);
        this.values = new AvroSerializer<>(clients.registry(), false);
    }

    /** A neuron's activations record, encoded, on the partition its simulations go to. */
    private ProducerRecord<byte[], byte[]> placed(NeuronActivations record, int partitions) {
        ProducerRecord<byte[], byte[]> encoded = avro(Topics.NEURON_ACTIVATIONS, Identities.activationsKey(record), record);
        int partition = NeuronPartitioner.ofNeuron(record.getNeuron(), keys, partitions);
        return new ProducerRecord<>(encoded.topic(), partition, encoded.key(), encoded.value());
    }

    /** A record for {@code topic}, key and value in the registry's Avro wire format. */
    private ProducerRecord<byte[], byte[]> avro(String topic, SpecificRecord key, SpecificRecord value) {
        return new ProducerRecord<>(topic, keys.serialize(topic, key), values.serialize(topic, value));
    }

    /** Runs the whole pass in this process and emits every neuron's record; returns the counts. */
    public ProduceSummary produce(RunIdentity run, CorpusPass pass, WindowCutter cutter, PassProgress progress)
            throws IOException {
        return produce(run, pass, cutter, progress, null, RunDetails.NONE);
    }

    /** As {@link #produce(RunIdentity, CorpusPass, WindowCutter, PassProgress)}, emitting only the selected neurons (null = all). */
    public ProduceSummary produce(RunIdentity run, CorpusPass pass, WindowCutter cutter, PassProgress progress,
                                  NeuronSelection selection, RunDetails details) throws IOException {
        long start = System.nanoTime();
        PassResult result = pass(run, details, pass, cutter, progress, null, PassSnapshots.NONE, null);
        return emit(run, details, pass, selection, result, start);
    }

    /**
     * Runs the pass over the cutter's windows (a shard's, when {@code range} is given; the whole run's
     * when null), handing a copy of the state to {@code snapshots} every {@code snapshotEvery}
     * (never when null) and the finished state at the end. Writes the shard's (or, unsharded, the
     * run's) STARTED and RUNNING records.
     */
    public PassResult pass(RunIdentity run, RunDetails details, CorpusPass pass, WindowCutter cutter,
                           PassProgress progress, ShardRange range, PassSnapshots snapshots,
                           Duration snapshotEvery) throws IOException {
        String transactionalId = "activation-producer-" + run.runId() + (details.shard() < 0 ? "" : "-shard-" + details.shard());
        CheckpointRunKey key = key(run, details.shard());
        Instant startedAt = Instant.now();
        // The run's records go out on a thread of their own, the producer's set-up included: the pass
        // starts at once and never waits for the broker.
        try (RunRecords records = new RunRecords(() -> transactional(transactionalId))) {
            boolean[] started = {false};
            try {
                PassResult result = pass.run(cutter, range == null ? ShardRange.all() : range, run.corpus(), () -> {
                    CheckpointRun startedRecord = state(run, details, RunState.STARTED, pass, 0, 0, 0,
                            windowsTotal(details, range), null, null, startedAt);
                    records.write(producer -> writeState(producer, key, startedRecord));
                    started[0] = true;
                    log.info("run {}: {} / {} over corpus {}{} started", run.runId(), run.model(), run.checkpoint(),
                            run.corpus(), details.shard() < 0 ? "" : ", shard " + details.shard() + " of " + details.shards());
                }, new RunningRecords(progress, records, key, run, details, pass, windowsTotal(details, range), startedAt),
                        snapshots, snapshotEvery);
                if (details.shard() >= 0) {
                    // A shard's own end: its windows count in the whole run's progress from now on.
                    CheckpointRun completed = state(run, details, RunState.COMPLETED, pass, 0, result.windows(),
                            result.tokens(), windowsTotal(details, range), null, 0.0, startedAt);
                    records.write(producer -> writeState(producer, key, completed));
                }
                records.await();
                return result;
            } catch (RuntimeException | IOException e) {
                if (started[0]) {
                    records.fail(producer -> fail(producer, key, run, details, pass, startedAt, e, 0));
                }
                throw e;
            }
        }
    }

    /**
     * Writes every (selected) neuron's record from a pass holding the complete state, in batches,
     * after those a previous attempt committed; the run's COMPLETED record goes with the last batch.
     *
     * @param startNanos when the run began, for the summary's wall time
     */
    public ProduceSummary emit(RunIdentity run, RunDetails details, CorpusPass pass, NeuronSelection selection,
                               PassResult result, long startNanos) {
        RunDetails whole = details.forShard(-1, details.shards());
        CheckpointRunKey key = key(run, -1);
        long neuronsTotal = neuronsTotal(pass, selection);
        Instant startedAt = Instant.now();
        long emitStart = System.nanoTime();
        // The producer first: initialising its transactions fences an earlier emitter of this run, so
        // the marker read next can no longer move under us.
        try (KafkaProducer<byte[], byte[]> producer = transactional("activation-producer-" + run.runId()
                + "-emit")) {
            long committed = committedNeurons(key, details.neurons());
            if (committed > 0) {
                log.info("run {}: {} of {} neuron records were committed before; emitting the rest", run.runId(), committed,
                        neuronsTotal);
            }
            long[] committedSoFar = {committed};
            try {
                AtomicReference<Exception> sendError = new AtomicReference<>();
                long[] index = {0};
                long[] inBatch = {0};
                // Where the emission's time goes on this thread: sending (compression, the accumulator),
                // committing (flush, commit markers), the rest waiting for the records being built.
                long[] sendNanos = {0};
                long[] commitNanos = {0};
                producer.beginTransaction();
                // Which neurons to write, asked in emission order: the selected ones after those committed.
                CorpusPass.NeuronFilter wanted = (layer, neuron) -> {
                    if (selection != null && !selection.includes(layer, neuron)) {
                        return false;
                    }
                    return ++index[0] > committed;
                };
                long[] written = {committed};
                // Records are built, Avro-encoded and placed (NeuronPartitioner's rule, which would
                // otherwise decode each key again on this thread) on EMIT_THREADS threads, then sent
                // here in order.
                int partitions = producer.partitionsFor(Topics.NEURON_ACTIVATIONS).size();
                pass.emit(run, Instant.now(), EMIT_THREADS, wanted, record -> placed(record, partitions), bytes -> {
                    written[0]++;
                    long sendStart = System.nanoTime();
                    producer.send(bytes, (metadata, e) -> {
                        if (e != null) {
                            sendError.compareAndSet(null, e);
                        }
                    });
                    sendNanos[0] += System.nanoTime() - sendStart;
                    if (++inBatch[0] == transactions.size(written[0] - inBatch[0] - committed)) {
                        long commitStart = System.nanoTime();
                        producer.send(avro(Topics.CHECKPOINT_RUNS, key, state(run, whole, RunState.RUNNING,
                                pass, written[0], result.windows(), result.tokens(), result.windows(), null, null, startedAt)));
                        commit(producer, sendError);
                        commitNanos[0] += System.nanoTime() - commitStart;
                        committedSoFar[0] = written[0];
                        producer.beginTransaction();
                        inBatch[0] = 0;
                    }
                });
                long emitted = written[0];
                producer.send(avro(Topics.CHECKPOINT_RUNS, key, state(run, whole, RunState.COMPLETED,
                        pass, emitted, result.windows(), result.tokens(), result.windows(), null, 0.0, startedAt)));
                long commitStart = System.nanoTime();
                commit(producer, sendError);
                commitNanos[0] += System.nanoTime() - commitStart;
                double total = (System.nanoTime() - emitStart) / 1e9;
                log.info("run {}: {} neuron records written and committed in {} s (sending {} s, committing {} s, "
                                + "the rest waiting for records built on {} threads)", run.runId(), emitted - committed, String.format("%.1f", total),
                        String.format("%.1f", sendNanos[0] / 1e9), String.format("%.1f", commitNanos[0] / 1e9), EMIT_THREADS);
                return new ProduceSummary(run, result, emitted, (System.nanoTime() - startNanos) / 1e9);
            } catch (RuntimeException e) {
                fail(producer, key, run, whole, pass, startedAt, e, committedSoFar[0]);
                throw e;
            }
        }
    }

    private static void commit(KafkaProducer<byte[], byte[]> producer, AtomicReference<Exception> sendError) {
        producer.flush();
        if (sendError.get() != null) {
            throw new KafkaException("cannot write to " + Topics.NEURON_ACTIVATIONS + ": " + sendError.get().getMessage(),
                    sendError.get());
        }
        producer.commitTransaction();
    }

    /**
     * Neurons of this run a previous attempt committed: the count in the run's latest record when that
     * is an emission's RUNNING or FAILED record for the same neurons (the count runs over the selected
     * neurons in emission order, so another selection must start again).
     */
    private long committedNeurons(CheckpointRunKey key, String neurons) {
        CheckpointRun latest = CheckpointRuns.read(clients).latest(key);
        boolean unfinished = latest != null && (latest.getState() == RunState.RUNNING || latest.getState() == RunState.FAILED);
        return unfinished && latest.getStage().equals(STAGE) && latest.getNeurons().equals(neurons)
                ? latest.getNeuronsEmitted() : 0;
    }

    private KafkaProducer<byte[], byte[]> transactional(String transactionalId) {
        Map<String, Object> config = clients.producer(transactionalId);
        config.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, TRANSACTION_TIMEOUT_MS);
        // A neuron's activations are ~13 KB: with the default 16 KB batches each was a batch of its
        // own, paying a compressor's set-up per record (a third of the emission's samples).
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        long start = System.nanoTime();
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config, new ByteArraySerializer(),
                new ByteArraySerializer());
        try {
            producer.initTransactions();
        } catch (RuntimeException e) {
            producer.close(Duration.ZERO);
            throw e;
        }
        log.info("transactional producer {} ready in {} ms", transactionalId, (System.nanoTime() - start) / 1_000_000);
        return producer;
    }

    static CheckpointRunKey key(RunIdentity run, int shard) {
        return new CheckpointRunKey(run.model(), run.checkpoint(), run.corpus(), run.runId(), shard);
    }

    private static long neuronsTotal(CorpusPass pass, NeuronSelection selection) {
        return selection == null ? (long) pass.layers().length * pass.neuronsPerLayer() : selection.count(pass.neuronsPerLayer());
    }

    private static Long windowsTotal(RunDetails details, ShardRange range) {
        if (range != null && range.to() != Long.MAX_VALUE) {
            return range.to() - range.from();
        }
        return details.windowBudget() > 0 ? details.windowBudget() : null;
    }

    /** Aborts and writes FAILED, keeping the count of neuron records committed so far for a resumed emission. */
    private void fail(KafkaProducer<byte[], byte[]> producer, CheckpointRunKey key, RunIdentity run,
                      RunDetails details, CorpusPass pass, Instant startedAt, Exception cause, long committed) {
        // An interrupted emission still records its failure: Kafka's client refuses to work while
        // the thread's interrupt flag is set, so it is set again only afterwards.
        boolean interrupted = Thread.interrupted();
        try {
            try {
                producer.abortTransaction();
            } catch (RuntimeException ignored) {
                // No transaction was open (the failure came during the pass): nothing to abort.
            }
            String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
            try {
                writeState(producer, key, state(run, details, RunState.FAILED, pass, committed, 0, 0, null, message, null,
                        startedAt));
            } catch (RuntimeException e) {
                log.warn("run {}: could not write its FAILED record: {}", run.runId(), e.getMessage());
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void writeState(KafkaProducer<byte[], byte[]> producer, CheckpointRunKey key, CheckpointRun state) {
        producer.beginTransaction();
        producer.send(avro(Topics.CHECKPOINT_RUNS, key, state));
        producer.commitTransaction();
    }

    private static CheckpointRun state(RunIdentity run, RunDetails details, RunState state, CorpusPass pass,
                                       long emitted, long windows, long tokens, Long windowsTotal, String message,
                                       Double etaSeconds, Instant startedAt) {
        return CheckpointRun.newBuilder().setModel(run.model()).setCheckpoint(run.checkpoint()).setCorpus(run.corpus())
                .setRunId(run.runId()).setState(state).setLayers(pass.layers().length)
                .setNeuronsTotal(details.neurons().isEmpty() ? (long) pass.layers().length * pass.neuronsPerLayer()
                        : NeuronSelection.parse(details.neurons()).count(pass.neuronsPerLayer())).setNeuronsEmitted(emitted)
                .setWindows(windows).setTokens(tokens).setWindowsTotal(windowsTotal).setEtaSeconds(etaSeconds)
                .setNeurons(details.neurons()).setStep(details.step()).setStage(STAGE)
                .setShard(details.shard()).setShards(details.shards()).setMessage(message)
                .setStartedAt(startedAt).setUpdatedAt(Instant.now()).build();
    }

    /** Passes progress on, and every {@code runningEveryNanos} writes a RUNNING record with windows done, total and ETA. */
    private final class RunningRecords implements PassProgress {
        private final PassProgress inner;
        private final RunRecords records;
        private final CheckpointRunKey key;
        private final RunIdentity run;
        private final RunDetails details;
        private final CorpusPass pass;
        private final Long windowsTotal;
        private final Instant startedAt;
        private long passStart = System.nanoTime();
        private long lastWritten = passStart;
        /** The fraction done when this process began (a resumed pass starts past 0): the ETA counts from it. */
        private double firstFraction = Double.NaN;

        RunningRecords(PassProgress inner, RunRecords records, CheckpointRunKey key,
                       RunIdentity run, RunDetails details, CorpusPass pass, Long windowsTotal, Instant startedAt) {
            this.inner = inner;
            this.records = records;
            this.key = key;
            this.run = run;
            this.details = details;
            this.pass = pass;
            this.windowsTotal = windowsTotal;
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
            records.check(); // a run record that could not be written fails the pass
            if (Thread.currentThread().isInterrupted()) {
                // A cancelled pass stops here, as it did when its RUNNING records were written on
                // this thread and Kafka's client refused to work on an interrupted one.
                throw new InterruptException("the pass was interrupted");
            }
            if (Double.isNaN(firstFraction)) {
                firstFraction = fraction;
            }
            long now = System.nanoTime();
            if (now - lastWritten < runningEveryNanos) {
                return;
            }
            lastWritten = now;
            double elapsed = (now - passStart) / 1e9;
            double doneHere = fraction - (Double.isNaN(firstFraction) ? 0 : firstFraction);
            Double eta = Double.isNaN(fraction) || doneHere <= 0 ? null : elapsed * (1 - fraction) / doneHere;
            CheckpointRun mine = state(run, details, RunState.RUNNING, pass, 0, windows, tokens, windowsTotal, null, eta,
                    startedAt);
            records.write(producer -> {
                producer.beginTransaction();
                producer.send(avro(Topics.CHECKPOINT_RUNS, key, mine));
                if (details.shard() >= 0) {
                    producer.send(avro(Topics.CHECKPOINT_RUNS, key(run, -1), wholeRun(mine)));
                }
                producer.commitTransaction();
            });
        }

        /** The whole run's progress: this shard's, plus the other shards' latest RUNNING or finished records. */
        private CheckpointRun wholeRun(CheckpointRun mine) {
            long windows = mine.getWindows();
            long tokens = mine.getTokens();
            long total = mine.getWindowsTotal() == null ? 0 : mine.getWindowsTotal();
            double eta = mine.getEtaSeconds() == null ? 0 : mine.getEtaSeconds();
            CheckpointRuns known = CheckpointRuns.read(clients);
            for (int shard = 0; shard < details.shards(); shard++) {
                if (shard == details.shard()) {
                    continue;
                }
                CheckpointRun other = known.latest(key(run, shard));
                if (other != null) {
                    windows += other.getWindows();
                    tokens += other.getTokens();
                    total += other.getWindowsTotal() == null ? 0 : other.getWindowsTotal();
                    eta = Math.max(eta, other.getEtaSeconds() == null ? 0 : other.getEtaSeconds());
                }
            }
            if (details.runWindows() > 0) {
                total = details.runWindows(); // shards that have not reported yet count too
            }
            return CheckpointRun.newBuilder(mine).setShard(-1).setWindows(windows).setTokens(tokens)
                    .setWindowsTotal(total == 0 ? null : total).setEtaSeconds(eta).build();
        }

        @Override
        public void finish() {
            inner.finish();
        }
    }
}
