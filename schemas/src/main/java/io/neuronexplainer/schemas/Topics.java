package io.neuronexplainer.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/** The system's topics: their names, cleanup policies, and idempotent creation. */
public final class Topics {
    public static final String NEURON_ACTIVATIONS = "neuron-activations";
    public static final String NEURON_EXPLANATIONS = "neuron-explanations";
    /** With explanations reused across checkpoints: the activations of neurons the scorer found changed, to explain. */
    public static final String EXPLANATION_REQUESTS = "explanation-requests";
    public static final String SIMULATION_REQUESTS = "simulation-requests";
    public static final String NEURON_SIMULATIONS = "neuron-simulations";
    public static final String NEURON_SCORES = "neuron-scores";
    /** Each neuron's best score so far, keyed by neuron (compacted: the latest best per neuron stays). */
    public static final String NEURON_BEST_SCORES = "neuron-best-scores";
    /** Each neuron's drift between consecutive checkpoints of a series, keyed by neuron and pair (compacted). */
    public static final String NEURON_DRIFT = "neuron-drift";
    public static final String CHECKPOINT_RUNS = "checkpoint-runs";
    /** Checkpoints the watcher released, one record each, for the producer service (docs/architecture.md). */
    public static final String CHECKPOINTS = "checkpoints";
    /** Shards of checkpoints' corpus passes, for the producer instances of the group to share. */
    public static final String PASS_SHARDS = "pass-shards";

    /** How long delete-policy topics keep records unless configured otherwise. */
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);

    /**
     * A topic and whether Kafka keeps only the latest record per key. Every compacted topic is
     * keyed by the identity of what it holds (docs/architecture.md), so the log cleaner never erases
     * a distinct record; the others are deleted after their retention.
     */
    public record Spec(String name, boolean compact) {
        public Map<String, String> configs() {
            return configs(DEFAULT_RETENTION);
        }

        public Map<String, String> configs(Duration retention) {
            return compact ? Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)
                    : Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
                            TopicConfig.RETENTION_MS_CONFIG, Long.toString(retention.toMillis()));
        }
    }

    /** Every data topic, as docs/architecture.md's topic table lists them. */
    public static final List<Spec> DATA = List.of(
            new Spec(NEURON_ACTIVATIONS, true),
            new Spec(NEURON_EXPLANATIONS, false),
            new Spec(EXPLANATION_REQUESTS, false),
            new Spec(SIMULATION_REQUESTS, false),
            new Spec(NEURON_SIMULATIONS, false),
            new Spec(NEURON_SCORES, true),
            new Spec(NEURON_BEST_SCORES, true),
            new Spec(NEURON_DRIFT, true),
            new Spec(CHECKPOINT_RUNS, true),
            new Spec(CHECKPOINTS, true),
            new Spec(PASS_SHARDS, false));

    private Topics() {}

    /** The dead-letter topic for records that failed when read from {@code topic}. */
    public static String deadLetter(String topic) {
        return topic + "-dlq";
    }

    /**
     * The compacted topic where a worker group records, per input partition, the identities it
     * has produced (one marker per identity), so input delivered again is not processed again.
     */
    public static String processed(String groupId) {
        return groupId + "-processed";
    }

    /** Every topic: the data topics and one dead-letter topic per data topic. */
    public static List<Spec> all() {
        List<Spec> all = new ArrayList<>(DATA);
        for (Spec s : DATA) {
            all.add(new Spec(deadLetter(s.name()), false));
        }
        return all;
    }

    /**
     * Waits until the leader of every partition of {@code topics} answers for it. An idempotent
     * producer writing to a partition its leader has not yet created can lose a batch: the first
     * request fails with NOT_LEADER_OR_FOLLOWER, a later one is appended, and the first one's retries
     * then fail with OUT_OF_ORDER_SEQUENCE_NUMBER until they expire (KAFKA-15591). ListOffsets is
     * answered by the leader's replica manager, so once it succeeds the partition is there.
     */
    public static void awaitLeaders(Admin admin, List<String> topics, int partitions, long timeoutMs)
            throws TimeoutException, InterruptedException {
        Map<TopicPartition, OffsetSpec> pending = new HashMap<>();
        for (String t : topics) {
            for (int p = 0; p < partitions; p++) {
                pending.put(new TopicPartition(t, p), OffsetSpec.latest());
            }
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!pending.isEmpty()) {
            var answers = admin.listOffsets(pending);
            for (TopicPartition tp : List.copyOf(pending.keySet())) {
                try {
                    answers.partitionResult(tp).get(timeoutMs, TimeUnit.MILLISECONDS);
                    pending.remove(tp);
                } catch (ExecutionException notYet) {
                    // the leader does not have it yet: asked again below
                }
            }
            if (!pending.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("partitions without a ready leader after " + timeoutMs + " ms: " + pending.keySet());
                }
                Thread.sleep(50);
            }
        }
    }

    /**
     * Creates every missing topic; existing topics are left as they are, so this is safe to
     * call from every service at start-up.
     *
     * @param replication replicas per partition, or -1 for the broker's default
     */
    public static void create(Admin admin, int partitions, short replication, long timeoutMs)
            throws TimeoutException {
        create(admin, partitions, replication, DEFAULT_RETENTION, timeoutMs);
    }

    /** As {@link #create(Admin, int, short, long)}, delete-policy topics keeping records for {@code retention}. */
    public static void create(Admin admin, int partitions, short replication, Duration retention, long timeoutMs)
            throws TimeoutException {
        try {
            Set<String> existing = admin.listTopics().names().get(timeoutMs, TimeUnit.MILLISECONDS);
            List<NewTopic> missing = all().stream()
                    .filter(s -> !existing.contains(s.name()))
                    .map(s -> new NewTopic(s.name(), Optional.of(partitions),
                            replication < 0 ? Optional.empty() : Optional.of(replication)).configs(s.configs(retention)))
                    .collect(Collectors.toList());
            if (missing.isEmpty()) {
                return;
            }
            for (var entry : admin.createTopics(missing).values().entrySet()) {
                try {
                    entry.getValue().get(timeoutMs, TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    // Another service created it between our list and our create: that is fine.
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + entry.getKey() + ": "
                                + e.getCause().getMessage(), e.getCause());
                    }
                }
            }
            awaitLeaders(admin, missing.stream().map(NewTopic::name).toList(), partitions, timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot list topics: " + e.getCause().getMessage(), e.getCause());
        }
    }
}
