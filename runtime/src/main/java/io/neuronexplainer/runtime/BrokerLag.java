package io.neuronexplainer.runtime;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each consumer group's lag as the broker sees it: the topic's last committed offset (read
 * committed) minus the group's committed offset, summed per group and topic, read with the Admin
 * client as KEDA and lag exporters do. Unlike the consumers' own records-lag-max, it exists while a
 * pool has no running consumer (scaled to zero, crashed), which is when it matters most. On a
 * partition an expected group has committed nothing for yet, all of the log waits.
 */
public final class BrokerLag implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrokerLag.class);

    private final Admin admin;
    private final MeterRegistry registry;
    private final Map<String, List<String>> expected;
    private final Map<String, double[]> lags = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("broker-lag"));

    private BrokerLag(Admin admin, MeterRegistry registry, Map<String, List<String>> expected) {
        this.admin = admin;
        this.registry = registry;
        this.expected = expected;
    }

    /**
     * Publishes {@code kafka_group_lag_records{group, topic}} every {@code every}.
     *
     * @param expected groups to report even before they commit, with the topics they read
     */
    public static BrokerLag start(KafkaClients clients, MeterRegistry registry, Duration every,
                                  Map<String, List<String>> expected) {
        BrokerLag lag = new BrokerLag(Admin.create(clients.admin()), registry, expected);
        lag.timer.scheduleWithFixedDelay(lag::refreshQuietly, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return lag;
    }

    private void refreshQuietly() {
        try {
            refresh();
        } catch (Exception e) {
            // The broker away for a while: the gauges keep their last values and the next round asks again.
            log.warn("broker lag not read: {}", e.toString());
        }
    }

    /** Reads every group's committed offsets and the topics' ends once, updating the gauges. */
    public Map<String, Long> refresh() throws Exception {
        Map<String, Map<TopicPartition, Long>> committed = new HashMap<>();
        for (ConsumerGroupListing g : admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS)) {
            Map<TopicPartition, Long> offsets = new HashMap<>();
            admin.listConsumerGroupOffsets(g.groupId()).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                    .forEach((tp, om) -> {
                        if (om != null) {
                            offsets.put(tp, om.offset());
                        }
                    });
            committed.put(g.groupId(), offsets);
        }
        Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
        // An expected group's partitions with no commit yet: everything from the log start waits.
        Map<TopicPartition, OffsetSpec> uncommitted = new HashMap<>();
        for (var e : expected.entrySet()) {
            Map<TopicPartition, Long> offsets = committed.computeIfAbsent(e.getKey(), g -> new HashMap<>());
            for (String topic : e.getValue()) {
                if (existing.contains(topic)) {
                    for (TopicPartition tp : partitions(topic)) {
                        if (!offsets.containsKey(tp)) {
                            uncommitted.put(tp, OffsetSpec.earliest());
                        }
                    }
                }
            }
        }
        if (!uncommitted.isEmpty()) {
            Map<TopicPartition, Long> starts = new HashMap<>();
            admin.listOffsets(uncommitted).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> starts.put(tp, info.offset()));
            for (var e : expected.entrySet()) {
                Map<TopicPartition, Long> offsets = committed.get(e.getKey());
                starts.forEach((tp, start) -> {
                    if (e.getValue().contains(tp.topic())) {
                        offsets.putIfAbsent(tp, start);
                    }
                });
            }
        }
        Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
        committed.values().forEach(m -> m.keySet().forEach(tp -> ask.put(tp, OffsetSpec.latest())));
        Map<TopicPartition, Long> ends = new HashMap<>();
        admin.listOffsets(ask, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get(30, TimeUnit.SECONDS)
                .forEach((tp, info) -> ends.put(tp, info.offset()));
        Map<String, Long> out = new HashMap<>();
        committed.forEach((group, offsets) -> offsets.forEach((tp, offset) -> {
            Long end = ends.get(tp);
            if (end != null) {
                out.merge(group + '\u0000' + tp.topic(), Math.max(0, end - offset), Long::sum);
            }
        }));
        for (var e : out.entrySet()) {
            double[] value = lags.computeIfAbsent(e.getKey(), k -> {
                String[] parts = k.split("\u0000");
                double[] v = new double[1];
                Gauge.builder("kafka.group.lag", v, x -> x[0]).baseUnit("records")
                        .description("Records on the topic the group has not committed yet, from the broker's offsets")
                        .tag("group", parts[0]).tag("topic", parts[1]).register(registry);
                return v;
            });
            value[0] = e.getValue();
        }
        return out;
    }

    private List<TopicPartition> partitions(String topic) throws Exception {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
        List<TopicPartition> out = new ArrayList<>();
        d.partitions().forEach(p -> out.add(new TopicPartition(topic, p.partition())));
        return out;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        admin.close(Duration.ofSeconds(5));
    }
}
