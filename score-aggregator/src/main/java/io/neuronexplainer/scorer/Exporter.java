package io.neuronexplainer.scorer;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.DriftKey;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one JSON line per neuron ({@link NeuronDocument}: key, best explanation, every score,
 * windows under neuron-explainer's names, simulated activations per scoring window), sorted by
 * neuron, either from the topics or from a running scorer's stores.
 */
public final class Exporter {
    private static final Logger log = LoggerFactory.getLogger(Exporter.class);
    private Exporter() {}

    /**
     * Reads {@code neuron-activations}, {@code neuron-simulations} and {@code neuron-scores} from
     * the beginning to their current end (read_committed) and writes the file. A simulation with no
     * score on the topic (scores written before neuron-scores was keyed by score identity were
     * compacted to one per neuron) is scored again with the same function the scorer uses, if it is
     * of the activations' run; scores are kept one per score id. A neuron of a checkpoint run
     * more than once (another corpus or sampling) is exported with its latest run. Holds the run in memory (about
     * 20 KB a neuron).
     *
     * @return the number of neurons written
     */
    public static long export(KafkaClients clients, Path out) throws IOException {
        Map<NeuronKey, NeuronActivations> activations = new HashMap<>();
        Map<NeuronKey, Map<String, Simulation>> simulations = new HashMap<>();
        Map<NeuronKey, Map<String, NeuronScore>> scores = new HashMap<>();
        var registry = clients.registry();
        var keys = AvroDeserializer.of(registry, NeuronKey.class);
        var actDe = AvroDeserializer.of(registry, NeuronActivations.class);
        var simDe = AvroDeserializer.of(registry, Simulation.class);
        var scoreDe = AvroDeserializer.of(registry, NeuronScore.class);
        var driftKeys = AvroDeserializer.of(registry, DriftKey.class);
        var driftDe = AvroDeserializer.of(registry, NeuronDrift.class);
        Map<DriftKey, NeuronDrift> drift = new HashMap<>();
        long unreadable = 0;
        Map<String, Object> config = clients.readerToEnd("neuron-export-" + UUID.randomUUID());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : List.of(Topics.NEURON_ACTIVATIONS, Topics.NEURON_SIMULATIONS, Topics.NEURON_SCORES,
                    Topics.NEURON_DRIFT)) {
                for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofMillis(KafkaClients.CONNECT_TIMEOUT_MS))) {
                    partitions.add(new TopicPartition(topic, p.partition()));
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions));
            end.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
            while (!end.isEmpty()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.key() == null) {
                        continue;
                    }
                    try {
                        if (r.topic().equals(Topics.NEURON_DRIFT)) {
                            // Latest per neuron and pair; a tombstone removes a pair a late checkpoint split.
                            DriftKey k = driftKeys.deserialize(r.topic(), r.key());
                            if (r.value() == null) {
                                drift.remove(k);
                            } else {
                                drift.put(k, driftDe.deserialize(r.topic(), r.value()));
                            }
                            continue;
                        }
                        if (r.value() == null) {
                            continue;
                        }
                        read(r, keys, actDe, simDe, scoreDe, activations, simulations, scores);
                    } catch (SerializationException e) {
                        // The scorer dead-lettered it too; the export goes on without it.
                        unreadable++;
                    }
                }
                end.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
            }
        }
        if (unreadable > 0) {
            log.warn("export skipped {} unreadable record(s); they are in the -dlq topics", unreadable);
        }
        return write(out, documents(activations, simulations, scores, histories(drift.values())));
    }

    /** Each neuron's drift pairs (across its checkpoints), earlier pairs first, by "model/layer/neuron". */
    static Map<String, List<NeuronDrift>> histories(java.util.Collection<NeuronDrift> drift) {
        Map<String, List<NeuronDrift>> out = new HashMap<>();
        for (NeuronDrift d : drift) {
            out.computeIfAbsent(d.getKey().getModel() + "/" + d.getKey().getLayer() + "/" + d.getKey().getNeuron(),
                    k -> new ArrayList<>()).add(d);
        }
        out.values().forEach(l -> l.sort(java.util.Comparator.comparingLong(NeuronDrift::getFromStep)
                .thenComparing(d -> d.getKey().getFromCheckpoint())));
        return out;
    }

    private static List<NeuronDrift> historyOf(Map<String, List<NeuronDrift>> histories, NeuronKey key) {
        return histories.getOrDefault(key.getModel() + "/" + key.getLayer() + "/" + key.getNeuron(), List.of());
    }

    private static void read(ConsumerRecord<byte[], byte[]> r, AvroDeserializer<NeuronKey> keys,
                             AvroDeserializer<NeuronActivations> actDe, AvroDeserializer<Simulation> simDe,
                             AvroDeserializer<NeuronScore> scoreDe, Map<NeuronKey, NeuronActivations> activations,
                             Map<NeuronKey, Map<String, Simulation>> simulations,
                             Map<NeuronKey, Map<String, NeuronScore>> scores) {
        // neuron-scores and neuron-activations are keyed by identity: the neuron is read from the value.
        switch (r.topic()) {
            case Topics.NEURON_ACTIVATIONS -> {
                // One record per run of the neuron's checkpoint: the export shows the latest run.
                NeuronActivations a = actDe.deserialize(r.topic(), r.value());
                activations.merge(a.getNeuron(), a, (held, next) ->
                        next.getRun().getProducedAt().isBefore(held.getRun().getProducedAt()) ? held : next);
            }
            case Topics.NEURON_SIMULATIONS -> {
                NeuronKey key = keys.deserialize(r.topic(), r.key());
                Simulation s = simDe.deserialize(r.topic(), r.value());
                simulations.computeIfAbsent(key, k -> new LinkedHashMap<>())
                        .put(StoreKeys.simulation(key, s), s);
            }
            default -> {
                NeuronScore s = scoreDe.deserialize(r.topic(), r.value());
                scores.computeIfAbsent(s.getNeuron(), k -> new LinkedHashMap<>()).put(scoreId(s), s);
            }
        }
    }

    private static Iterable<ObjectNode> documents(Map<NeuronKey, NeuronActivations> activations,
                                                  Map<NeuronKey, Map<String, Simulation>> simulations,
                                                  Map<NeuronKey, Map<String, NeuronScore>> scores,
                                                  Map<String, List<NeuronDrift>> histories) {
        Set<NeuronKey> neurons = new TreeSet<>(activations.keySet());
        neurons.addAll(scores.keySet());
        Map<NeuronKey, ObjectNode> docs = new TreeMap<>();
        for (NeuronKey key : neurons) {
            NeuronActivations truth = activations.get(key);
            Map<String, NeuronScore> byId = scores.computeIfAbsent(key, k -> new LinkedHashMap<>());
            List<Simulation> sims = new ArrayList<>(simulations.getOrDefault(key, Map.of()).values());
            for (Simulation s : sims) {
                if (truth != null && ExplanationScorer.sameRun(truth, s) && !byId.containsKey(ExplanationScorer.scoreId(truth, s))) {
                    try {
                        byId.put(ExplanationScorer.scoreId(truth, s), ExplanationScorer.score(truth, s, Instant.now()));
                    } catch (InvalidSimulationException e) {
                        // The scorer sent it to the dead-letter topic; nothing to export.
                    }
                }
            }
            docs.put(key, NeuronDocument.of(key, truth, new ArrayList<>(byId.values()), sims, historyOf(histories, key)));
        }
        return docs.values();
    }

    /** A score's identity; computed from its fields for a score written before scores carried it. */
    static String scoreId(NeuronScore s) {
        return !s.getScoreId().isEmpty() ? s.getScoreId() : Identities.scoreId(s.getNeuron(), s.getRunId(), s.getExplanationId(),
                s.getScorerKind(), s.getSimulatorMethod(), s.getCarriedFrom());
    }

    /** Writes the file from a running scorer's stores (its local partitions). */
    public static long export(Scorer scorer, Path out) throws IOException {
        ScorerStores stores = scorer.stores();
        Map<String, List<NeuronDrift>> histories = histories(stores.drift(d -> true, java.util.Comparator.comparing(d -> 0)));
        // Built one at a time as they are written: every document in memory first would hold the whole
        // export (about 30 KB a neuron) at once.
        Iterable<ObjectNode> docs = () -> stores.neurons().stream()
                .map(key -> NeuronDocument.of(key, stores.activations(key).orElse(null), stores.scores(key),
                        stores.simulations(key), historyOf(histories, key)))
                .iterator();
        return write(out, docs);
    }

    private static long write(Path out, Iterable<ObjectNode> docs) throws IOException {
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        long n = 0;
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        // One generator straight to the file's bytes, UTF-8 encoded once: no String per document.
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
             JsonGenerator g = Json.MAPPER.getFactory().createGenerator(os, JsonEncoding.UTF8)) {
            g.setRootValueSeparator(new SerializedString("\n"));
            for (ObjectNode doc : docs) {
                Json.MAPPER.writeTree(g, doc);
                n++;
            }
            if (n > 0) {
                g.writeRaw('\n');
            }
        }
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return n;
    }
}
