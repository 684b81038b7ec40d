package io.neuronexplainer.bench.scorer;

import io.neuronexplainer.bench.ThreadCpu;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.scorer.Scorer;
import io.neuronexplainer.scorer.ScorerSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * This machine's own limit for the scorer's figure: a plain exactly-once Kafka Streams app with the
 * scorer's settings (exactly_once_v2, commit interval, fetch sizes) that copies the same input
 * records, activations and simulations, to one topic, as bytes, with as many stream threads. The scorer can be no faster than
 * reading its input and committing output under the same guarantee; scorer / copy says how far from it.
 */
final class StreamsCopyBaseline {
    static final String SINK = "bench-scorer-copy";

    private StreamsCopyBaseline() {}

    /**
     * The copy's rate in neurons per second (two input records a neuron), timed from its first record
     * processed to the last copy committed ({@link FirstRecord}), and the whole process's CPU per neuron
     * over that time (-1 without /proc), which says what a record costs the machine whatever it waits on.
     */
    record Result(double neuronsPerSecond, double cpuMicrosPerNeuron, double coresBusy) {}

    static Result measure(KafkaClients clients, Path stateDir, long neurons, int threads) throws Exception {
        try (Admin admin = Admin.create(clients.admin())) {
            int partitions = admin.describeTopics(List.of(Topics.NEURON_ACTIVATIONS)).allTopicNames().get()
                    .get(Topics.NEURON_ACTIVATIONS).partitions().size();
            admin.createTopics(List.of(new NewTopic(SINK, Optional.of(partitions), Optional.empty()))).all().get();
            Topics.awaitLeaders(admin, List.of(SINK), partitions, KafkaClients.CONNECT_TIMEOUT_MS);
        }
        Properties props = Scorer.properties(clients, ScorerSettings.defaults("scorer-bench-copy", stateDir)
                .withHttpPort(-1).withThreads(threads));
        StreamsBuilder builder = new StreamsBuilder();
        Consumed<byte[], byte[]> bytes = Consumed.with(Serdes.ByteArray(), Serdes.ByteArray());
        builder.stream(Topics.NEURON_ACTIVATIONS, bytes).merge(builder.stream(Topics.NEURON_SIMULATIONS, bytes))
                .to(SINK, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));
        try (KafkaConsumer<byte[], byte[]> sink = sinkConsumer(clients);
             KafkaStreams streams = new KafkaStreams(builder.build(props), props)) {
            streams.start();
            long first = FirstRecord.await(streams, Duration.ofSeconds(60));
            ThreadCpu cpuBefore = ThreadCpu.snapshot();
            long copied = 0;
            long deadline = first + Duration.ofMinutes(10).toNanos();
            while (copied < 2 * neurons) {
                copied += sink.poll(Duration.ofMillis(100)).count();
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the copy app copied " + copied + " of " + 2 * neurons + " records in 10 min");
                }
            }
            double seconds = (System.nanoTime() - first) / 1e9;
            long cpuNanos = ThreadCpu.snapshot().processCpuNanosSince(cpuBefore);
            return new Result(neurons / seconds, cpuNanos < 0 ? -1 : cpuNanos / 1e3 / neurons,
                    cpuNanos < 0 ? -1 : cpuNanos / 1e9 / seconds);
        }
    }

    /** A read_committed consumer of the sink from its start, so only committed copies count. */
    private static KafkaConsumer<byte[], byte[]> sinkConsumer(KafkaClients clients) {
        Map<String, Object> config = new HashMap<>(clients.consumer("unused"));
        config.remove("group.id");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = new ArrayList<>();
        for (PartitionInfo p : consumer.partitionsFor(SINK)) {
            parts.add(new TopicPartition(p.topic(), p.partition()));
        }
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        return consumer;
    }
}
