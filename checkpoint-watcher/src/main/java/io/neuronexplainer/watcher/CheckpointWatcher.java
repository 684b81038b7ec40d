package io.neuronexplainer.watcher;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.TopicSnapshot;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.CheckpointKey;
import io.neuronexplainer.schemas.CheckpointReleased;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.RunState;
import io.neuronexplainer.schemas.Topics;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watcher service: polls one {@link CheckpointSource} (or is woken by a webhook), and releases
 * each new, complete, readable checkpoint once, in training-step order, as a
 * {@link CheckpointReleased} record on the compacted topic {@code checkpoints}. A checkpoint it
 * cannot read becomes a FAILED {@code checkpoint-runs} record and a dead letter, and it goes on with
 * the next. What it already released or refused is read back from those topics at start, so a
 * restarted watcher never releases a checkpoint twice; its transactional id fences a second watcher
 * of the same model.
 */
public final class CheckpointWatcher implements AutoCloseable {
    public static final String STAGE = "checkpoint-watcher";
    private static final Logger log = LoggerFactory.getLogger(CheckpointWatcher.class);
    private static final String REFUSED = "refused-";

    /**
     * What the watcher releases under which model name, how often it polls, the backlog policy, and
     * the step after whose release it stops (a training run's last step; null = never).
     */
    public record Settings(String model, Duration pollInterval, BacklogPolicy backlog, Long untilStep) {
        public Settings(String model, Duration pollInterval, BacklogPolicy backlog) {
            this(model, pollInterval, backlog, null);
        }
    }

    private final KafkaClients clients;
    private final CheckpointSource source;
    private final Settings settings;
    private final KafkaProducer<SpecificRecord, SpecificRecord> producer;
    private final Set<String> released = new HashSet<>();
    private final Set<String> refused = new HashSet<>();
    private final Semaphore wake = new Semaphore(0);
    private final Counter seen;
    private final Counter releasedCount;
    private final Counter failedCount;
    private final Timer pollLatency;
    private volatile boolean running = true;
    private volatile boolean ready;
    private volatile String lastError;

    public CheckpointWatcher(KafkaClients clients, CheckpointSource source, Settings settings, MeterRegistry meters) {
        this.clients = clients;
        this.source = source;
        this.settings = settings;
        Map<String, Object> config = clients.producer(STAGE + "-" + settings.model());
        this.producer = new KafkaProducer<>(config, new AvroSerializer<>(clients.registry(), true),
                new AvroSerializer<>(clients.registry(), false));
        this.seen = Counter.builder("watcher_checkpoints_seen_total").description("New checkpoints found complete")
                .tag("model", settings.model()).register(meters);
        this.releasedCount = Counter.builder("watcher_checkpoints_released_total").tag("model", settings.model())
                .register(meters);
        this.failedCount = Counter.builder("watcher_checkpoints_failed_total").tag("model", settings.model())
                .register(meters);
        this.pollLatency = Timer.builder("watcher_poll_latency_seconds").description("Time to list the source")
                .tag("model", settings.model()).register(meters);
    }

    /** Reads what was already released or refused, then polls until {@link #stop()}. */
    public void run() {
        start();
        while (running) {
            pollOnce();
            if (!running) {
                return;
            }
            try {
                if (wake.tryAcquire(settings.pollInterval().toMillis(), TimeUnit.MILLISECONDS)) {
                    wake.drainPermits();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Rebuilds the released and refused sets from the topics and readies the transactional producer. */
    public void start() {
        producer.initTransactions();
        for (ConsumerRecord<CheckpointKey, CheckpointReleased> r
                : TopicSnapshot.read(clients, Topics.CHECKPOINTS, CheckpointKey.class, CheckpointReleased.class)) {
            if (r.key() != null && r.value() != null && r.key().getModel().equals(settings.model())) {
                released.add(r.key().getCheckpoint());
            }
        }
        for (ConsumerRecord<CheckpointRunKey, CheckpointRun> r
                : TopicSnapshot.read(clients, Topics.CHECKPOINT_RUNS, CheckpointRunKey.class, CheckpointRun.class)) {
            CheckpointRunKey k = r.key();
            if (k != null && k.getModel().equals(settings.model()) && k.getRunId().startsWith(REFUSED)) {
                refused.add(k.getCheckpoint() + "\0" + k.getRunId().substring(REFUSED.length()));
            }
        }
        log.info("watching {} for model {}: {} checkpoints released and {} refused before", source.describe(),
                settings.model(), released.size(), refused.size());
        ready = true;
    }

    /** One poll: lists the source and releases (or refuses) every new checkpoint in policy order; returns how many were released. */
    public int pollOnce() {
        List<CheckpointCandidate> found;
        long start = System.nanoTime();
        try {
            found = source.list();
            lastError = null;
        } catch (IOException | RuntimeException e) {
            lastError = e.getMessage();
            log.warn("cannot list {}: {} (trying again at the next poll)", source.describe(), e.getMessage());
            return 0;
        } finally {
            pollLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
        List<CheckpointCandidate> fresh = found.stream()
                .filter(c -> !released.contains(c.name()) && !refused.contains(c.name() + "\0" + c.revision()))
                .toList();
        int count = 0;
        for (CheckpointCandidate c : settings.backlog().select(fresh)) {
            if (!running) {
                break;
            }
            seen.increment();
            try {
                LocalCheckpoint local = source.fetch(c);
                release(local);
                count++;
            } catch (CheckpointRejectedException e) {
                refuse(c, e.getMessage());
            } catch (IOException e) {
                // Transient (a network fault, a file moved): not the checkpoint's fault; the next poll retries.
                lastError = e.getMessage();
                log.warn("cannot fetch {} / {}: {} (trying again at the next poll)", settings.model(), c.name(), e.getMessage());
            } catch (ProducerFencedException e) {
                running = false;
                lastError = "another watcher of model " + settings.model() + " took over";
                log.error("{}: stopping", lastError);
                break;
            } catch (KafkaException e) {
                // The broker is away: abort and release it at the next poll (nothing was committed).
                lastError = e.getMessage();
                abortQuietly();
                log.warn("cannot write to Kafka: {} (trying again at the next poll)", e.getMessage());
                break;
            }
        }
        return count;
    }

    private void release(LocalCheckpoint local) {
        CheckpointCandidate c = local.candidate();
        CheckpointReleased record = new CheckpointReleased(settings.model(), c.name(), c.step(), source.describe(),
                c.revision(), local.folder().toAbsolutePath().toString(), local.tokenizer().toAbsolutePath().toString(),
                local.downloaded(), Instant.now());
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(Topics.CHECKPOINTS, new CheckpointKey(settings.model(), c.name()), record));
        producer.commitTransaction();
        released.add(c.name());
        releasedCount.increment();
        if (settings.untilStep() != null && c.step() != null && c.step() >= settings.untilStep()) {
            log.info("released step {} (--until-step {}): stopping", c.step(), settings.untilStep());
            running = false;
        }
        log.info("released {} / {} (step {}) from {}", settings.model(), c.name(), c.step() == null ? "?" : c.step(),
                local.folder());
    }

    private void refuse(CheckpointCandidate c, String reason) {
        Instant now = Instant.now();
        CheckpointRunKey key = new CheckpointRunKey(settings.model(), c.name(), "", REFUSED + c.revision(), -1);
        CheckpointRun run = CheckpointRun.newBuilder().setModel(settings.model()).setCheckpoint(c.name()).setCorpus("")
                .setRunId("").setState(RunState.FAILED).setLayers(0).setNeuronsTotal(0L).setNeuronsEmitted(0L)
                .setWindows(0L).setTokens(0L).setStep(c.step()).setStage(STAGE).setMessage(reason)
                .setStartedAt(now).setUpdatedAt(now).build();
        DeadLetter letter = new DeadLetter(STAGE, Topics.CHECKPOINTS, -1, -1L, null, null,
                CheckpointRejectedException.class.getName(), c.name() + " (revision " + c.revision() + "): " + reason, 1, now);
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(Topics.CHECKPOINT_RUNS, key, run));
        producer.send(new ProducerRecord<>(Topics.deadLetter(Topics.CHECKPOINTS), new CheckpointKey(settings.model(), c.name()),
                letter));
        producer.commitTransaction();
        refused.add(c.name() + "\0" + c.revision());
        failedCount.increment();
        log.error("refused {} / {}: {}", settings.model(), c.name(), reason);
    }

    private void abortQuietly() {
        try {
            producer.abortTransaction();
        } catch (RuntimeException ignored) {
            // No transaction was open, or the broker is still away: nothing was committed either way.
        }
    }

    /** Polls at once (a webhook saw a push) instead of at the next interval. */
    public void wake() {
        wake.release();
    }

    /** Started and the last listing of the source worked. */
    public boolean ready() {
        return ready && lastError == null;
    }

    public String lastError() {
        return lastError;
    }

    public Set<String> released() {
        return Set.copyOf(released);
    }

    public void stop() {
        running = false;
        wake.release();
    }

    @Override
    public void close() {
        stop();
        producer.close(Duration.ofSeconds(5));
    }
}
