package io.neuronexplainer.bench.scorer;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.bench.ThreadCpu;
import io.neuronexplainer.runtime.CliCommand;
import io.neuronexplainer.runtime.Connection;
import io.neuronexplainer.runtime.ConnectionOptions;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.ScratchFolder;
import io.neuronexplainer.runtime.ServiceMain;
import io.neuronexplainer.scorer.Scorer;
import io.neuronexplainer.scorer.ScorerSettings;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code neuron-explain bench scorer}: pre-loads N synthetic neurons (activations and one
 * simulation each), starts a fresh scorer, and times it from its first record processed
 * ({@link FirstRecord}) until a read_committed consumer of neuron-scores has seen all N scores.
 */
@Command(name = "scorer", mixinStandardHelpOptions = true,
        description = "Score N pre-loaded synthetic neurons end to end (exactly-once, committed output); "
                + "embedded, on an empty broker of its own (--data-dir is not used); then a plain exactly-once Kafka Streams "
                + "copy of the same records, this machine's own limit; last line neurons_per_s, copy_neurons_per_s and "
                + "copy_ratio (scorer / copy).")
public class ScorerBenchCommand implements Callable<Integer>, CliCommand {
    @Mixin
    ConnectionOptions connection;

    @Option(names = "--neurons", defaultValue = "20000", description = "Neurons to score (default: ${DEFAULT-VALUE}).")
    int neurons;

    @Option(names = "--warm-up", defaultValue = "30000",
            description = "Neurons a first scorer scores, untimed, before the timed one: the JIT compiles the scorer's, "
                    + "the broker's and the clients' code meanwhile (a third of the CPU of a cold run, still a quarter "
                    + "after 2,000), so the figure is a scorer's that has run a while, as a service does. The timed "
                    + "scorer, a new application, scores them again with the --neurons ones, and the copy copies both "
                    + "(default: ${DEFAULT-VALUE}).")
    int warmUp;

    @Option(names = "--threads", defaultValue = "0",
            description = "Stream threads of the scorer and of the copy; 0 = one per core (at most 6), as `score` (default: ${DEFAULT-VALUE}).")
    int threads;

    @Override
    public String parent() {
        return "bench";
    }

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            if (neurons < 1) {
                throw new IllegalArgumentException("--neurons must be at least 1, got " + neurons);
            }
            int threads = ScorerSettings.threads(this.threads);
            if (warmUp < 0) {
                throw new IllegalArgumentException("--warm-up must be at least 0, got " + warmUp);
            }
            // A new scorer reads its input topics from the start: on the embedded broker's usual data
            // folder it would also score every neuron earlier runs left there (the figure fell tenfold
            // on a folder of a few GB). Embedded, the bench gets an empty broker of its own.
            if (!connection.embedded()) {
                System.out.println("cluster mode: neurons already in neuron-activations and neuron-simulations are scored "
                        + "too, and slow the figure; use an empty cluster");
            }
            // bin/neuron-explain runs the scorer (and this bench) with C2 alone; `java -jar` keeps the JVM's tiers.
            String tiered = java.lang.management.ManagementFactory.getPlatformMXBean(
                    com.sun.management.HotSpotDiagnosticMXBean.class).getVMOption("TieredCompilation").getValue();
            System.out.println("JIT: " + (Boolean.parseBoolean(tiered) ? "tiered (C1, then C2)" : "C2 alone (-XX:-TieredCompilation)"));
            try (ScratchFolder scratch = ScratchFolder.create("bench-scorer");
                 Connection c = (connection.embedded() ? connection.withDataDir(scratch.resolve("runtime")) : connection).open()) {
                KafkaClients clients = c.clients();
                String model = "bench-" + UUID.randomUUID().toString().substring(0, 8);
                if (warmUp > 0) {
                    preload(clients, model + "-warm-up", warmUp);
                    try (KafkaConsumer<byte[], byte[]> consumer = scoresConsumer(clients);
                         Scorer warming = Scorer.start(clients, ScorerSettings.defaults("scorer-bench-warm-up-" + model,
                                 scratch.resolve("warm-up-state")).withHttpPort(-1).withThreads(threads), new SimpleMeterRegistry())) {
                        long warmStart = System.nanoTime();
                        awaitScores(consumer, warming, warmUp);
                        System.out.printf("warm-up: a first scorer scored %d other neurons in %.1f s, untimed%n", warmUp,
                                (System.nanoTime() - warmStart) / 1e9);
                    }
                }
                long preload = System.nanoTime();
                preload(clients, model, neurons);
                System.out.printf("pre-loaded %d neurons (activations + 1 simulation each) in %.1f s%n",
                        neurons, (System.nanoTime() - preload) / 1e9);
                long total = (long) warmUp + neurons;
                Path state = scratch.resolve("scorer-state");
                double scorerRate;
                try (KafkaConsumer<byte[], byte[]> consumer = scoresConsumer(clients)) {
                    ScorerSettings settings = ScorerSettings.defaults("scorer-bench-" + model, state)
                            .withHttpPort(-1).withThreads(threads);
                    long start = System.nanoTime();
                    try (Scorer scorer = Scorer.start(clients, settings, new SimpleMeterRegistry())) {
                        long first = FirstRecord.await(scorer.streams(), Duration.ofSeconds(60));
                        ThreadCpu cpuBefore = ThreadCpu.snapshot();
                        scorer.awaitRunning(Duration.ofSeconds(60));
                        long running = System.nanoTime();
                        awaitScores(consumer, scorer, total);
                        double secs = (System.nanoTime() - first) / 1e9;
                        ThreadCpu cpuAfter = ThreadCpu.snapshot();
                        System.out.printf("startup to the first record processed %.1f s (RUNNING %.1f s later); scored %d neurons "
                                + "(%d + the %d of the warm-up) in %.2f s from it (read_committed neuron-scores, %d stream thread(s))%n",
                                (first - start) / 1e9, (running - first) / 1e9, total, neurons, warmUp, secs, threads);
                        // Where each stream thread's time went: poll, process, commit (fractions), a line each.
                        java.util.Map<String, StringBuilder> where = new java.util.TreeMap<>();
                        scorer.streams().metrics().forEach((name, metric) -> {
                            if (name.group().equals("stream-thread-metrics") && List.of("poll-ratio", "process-ratio",
                                    "commit-ratio", "poll-records-avg", "commit-latency-avg", "poll-latency-avg").contains(name.name())) {
                                String thread = name.tags().getOrDefault("thread-id", "");
                                Object v = metric.metricValue();
                                where.computeIfAbsent(thread.substring(thread.lastIndexOf('-') + 1),
                                                t -> new StringBuilder("stream thread " + t + ":"))
                                        .append(' ').append(name.name()).append('=')
                                        .append(v instanceof Double d ? String.format("%.3f", d) : v);
                            }
                        });
                        where.values().forEach(System.out::println);
                        System.out.println(recordsWritten(scorer, total));
                        ThreadCpu.Group streamThreads = ThreadCpu.Group.of("stream thread", "^scorer-bench.*");
                        System.out.println("where the scoring's CPU went: " + cpuAfter.since(cpuBefore, List.of(
                                ThreadCpu.Group.of("score-reader", "^main$|^java$"), streamThreads)));
                        // Per neuron, steadier from run to run than the rate on a shared machine: compare builds by it.
                        long cpuNanos = cpuAfter.processCpuNanosSince(cpuBefore);
                        if (cpuNanos > 0) {
                            System.out.printf("CPU per neuron: stream thread(s) %.0f us, whole process %.0f us%n",
                                    cpuAfter.shareSince(cpuBefore, streamThreads) * cpuNanos / 1e3 / total, cpuNanos / 1e3 / total);
                        }
                        scorerRate = total / secs;
                    }
                }
                // The machine's own limit, measured in the same run on the same records.
                StreamsCopyBaseline.Result copy = StreamsCopyBaseline.measure(clients, scratch.resolve("copy-state"), total, threads);
                System.out.printf("plain exactly-once Streams copy of the same %d neurons' records: %.0f neurons/s%s%n",
                        total, copy.neuronsPerSecond(), copy.cpuMicrosPerNeuron() < 0 ? "" : String.format(
                                "; CPU per neuron: whole process %.0f us (%.2f cores busy)", copy.cpuMicrosPerNeuron(), copy.coresBusy()));
                System.out.printf("neurons_per_s=%.0f copy_neurons_per_s=%.0f copy_ratio=%.3f%n", scorerRate,
                        copy.neuronsPerSecond(), scorerRate / copy.neuronsPerSecond());
            }
            return 0;
        });
    }

    /**
     * What the scorer wrote per neuron, by topic, from its producers' own counts: every output,
     * changelog and repartition record costs a send, a broker append and, for repartitions, a read back.
     */
    private static String recordsWritten(Scorer scorer, long neurons) {
        Map<String, Double> sent = new java.util.TreeMap<>();
        scorer.streams().metrics().forEach((name, metric) -> {
            if (name.group().equals("producer-topic-metrics") && name.name().equals("record-send-total")
                    && metric.metricValue() instanceof Double d) {
                sent.merge(name.tags().get("topic").replaceFirst("^scorer-bench-[^-]+-[^-]+-", ""), d, Double::sum);
            }
        });
        StringBuilder line = new StringBuilder(String.format("records written per neuron: %.2f:",
                sent.values().stream().mapToDouble(Double::doubleValue).sum() / neurons));
        sent.forEach((topic, n) -> line.append(String.format(" %s=%.2f", topic, n / neurons)));
        return line.toString();
    }

    /** Waits until {@code scorer} has written {@code count} scores that {@code consumer} reads committed. */
    private static void awaitScores(KafkaConsumer<byte[], byte[]> consumer, Scorer scorer, long count) {
        long seen = 0;
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (seen < count) {
            seen += consumer.poll(Duration.ofMillis(100)).count();
            if (scorer.failure() != null || System.nanoTime() > deadline) {
                throw new IllegalStateException("scorer stopped or timed out after " + seen + " scores: " + scorer.failure());
            }
        }
    }

    private static void preload(KafkaClients clients, String model, int neurons) {
        Map<String, Object> config = clients.producer(null);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
        SyntheticScoringInput synthetic = new SyntheticScoringInput(model, 42);
        try (KafkaProducer<org.apache.avro.specific.SpecificRecord, org.apache.avro.specific.SpecificRecord> producer = new KafkaProducer<>(config,
                new AvroSerializer<>(clients.registry(), true), new AvroSerializer<org.apache.avro.specific.SpecificRecord>(clients.registry(), false))) {
            for (int i = 0; i < neurons; i++) {
                NeuronActivations a = synthetic.activations(i);
                Simulation s = synthetic.simulation(a, "bench-explanation");
                // Half the simulations before their activations, half after: both join paths.
                if (i % 2 == 0) {
                    producer.send(new ProducerRecord<>(Topics.NEURON_SIMULATIONS, a.getNeuron(), s));
                    producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, Identities.activationsKey(a), a));
                } else {
                    producer.send(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS, Identities.activationsKey(a), a));
                    producer.send(new ProducerRecord<>(Topics.NEURON_SIMULATIONS, a.getNeuron(), s));
                }
            }
            producer.flush();
        }
    }

    /** A read_committed consumer positioned at the current end of neuron-scores. */
    private static KafkaConsumer<byte[], byte[]> scoresConsumer(KafkaClients clients) {
        Map<String, Object> config = new HashMap<>(clients.consumer("unused"));
        config.remove("group.id");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = new ArrayList<>();
        for (PartitionInfo p : consumer.partitionsFor(Topics.NEURON_SCORES)) {
            parts.add(new TopicPartition(p.topic(), p.partition()));
        }
        consumer.assign(parts);
        consumer.seekToEnd(parts);
        parts.forEach(consumer::position); // fix the start before the scorer writes
        return consumer;
    }

}
