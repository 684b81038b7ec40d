package io.neuronexplainer.launcher.demo;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.scorer.LayerAggregate;
import io.neuronexplainer.scorer.Scorer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Which neurons the demo has finished, decided from what is committed downstream, never from
 * worker counters: a neuron is finished when the scorer holds a score for it, or when a dead
 * letter naming it is committed on any {@code -dlq} topic (it will get no score). Each neuron
 * counts once, however many records of it were dead-lettered or scored.
 */
final class FinishedNeurons implements AutoCloseable {
    /** A neuron's first dead letter: the topic it is on, the stage that gave up, and why. */
    record Letter(NeuronKey neuron, String topic, String stage, String reason) {}

    private final Scorer scorer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroDeserializer<DeadLetter> letters;
    private final AvroDeserializer<NeuronKey> keys;
    private final AvroDeserializer<ActivationsKey> activationsKeys;
    private final Map<NeuronKey, Letter> deadLettered = new LinkedHashMap<>();

    FinishedNeurons(KafkaClients clients, Scorer scorer) {
        this.scorer = scorer;
        Map<String, Object> config = new LinkedHashMap<>(clients.consumer("unused"));
        config.remove("group.id"); // assigned, not subscribed: it reads every dead letter from the start
        this.consumer = new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.letters = AvroDeserializer.of(clients.registry(), DeadLetter.class);
        this.keys = AvroDeserializer.of(clients.registry(), NeuronKey.class);
        this.activationsKeys = AvroDeserializer.of(clients.registry(), ActivationsKey.class);
        List<TopicPartition> parts = new ArrayList<>();
        for (Topics.Spec spec : Topics.DATA) {
            for (PartitionInfo p : consumer.partitionsFor(Topics.deadLetter(spec.name()))) {
                parts.add(new TopicPartition(p.topic(), p.partition()));
            }
        }
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
    }

    /** Reads the dead letters committed since the last call, waiting at most {@code wait} for new ones. */
    void poll(Duration wait) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(wait)) {
            DeadLetter letter;
            NeuronKey neuron;
            try {
                letter = letters.deserialize(r.topic(), r.value());
                neuron = letter.getKey() == null ? null : neuronOf(letter.getSourceTopic(), bytes(letter.getKey()));
            } catch (RuntimeException e) {
                continue; // not a neuron's record (e.g. a checkpoint's) or undecodable bytes: it names no neuron
            }
            if (neuron != null) {
                deadLettered.putIfAbsent(neuron, new Letter(neuron, r.topic(), letter.getStage(), letter.getErrorMessage()));
            }
        }
    }

    /** The neuron a dead letter's key names: activations are keyed by neuron and run, the rest by neuron. */
    private NeuronKey neuronOf(String sourceTopic, byte[] key) {
        return Topics.NEURON_ACTIVATIONS.equals(sourceTopic)
                ? activationsKeys.deserialize(sourceTopic, key).getNeuron() : keys.deserialize(sourceTopic, key);
    }

    /** Finished neurons of {@code model} per checkpoint: those scored, plus those dead-lettered with no score. */
    Map<String, Long> perCheckpoint(String model) {
        Map<String, Long> counts = new TreeMap<>();
        for (LayerAggregate layer : scorer.stores().layers()) {
            if (layer.model().equals(model)) {
                counts.merge(layer.checkpoint(), layer.count(), Long::sum);
            }
        }
        for (Letter l : unscored(model)) {
            counts.merge(l.neuron().getCheckpoint(), 1L, Long::sum);
        }
        return counts;
    }

    /** Finished neurons of {@code model} in all its checkpoints. */
    long count(String model) {
        return perCheckpoint(model).values().stream().mapToLong(Long::longValue).sum();
    }

    /** Neurons of {@code model} dead-lettered and not scored, in key order. */
    List<Letter> unscored(String model) {
        List<Letter> out = new ArrayList<>();
        for (Letter l : deadLettered.values()) {
            if (l.neuron().getModel().equals(model) && scorer.stores().best(l.neuron()).isEmpty()) {
                out.add(l);
            }
        }
        out.sort(Comparator.comparing(Letter::neuron));
        return out;
    }

    /** Neurons dead-lettered when read from {@code sourceTopic} (by the stage that consumes it). */
    long deadLetteredFrom(String sourceTopic) {
        String dlq = Topics.deadLetter(sourceTopic);
        return deadLettered.values().stream().filter(l -> l.topic().equals(dlq)).count();
    }

    /** One line: how many of the model's neurons were scored and dead-lettered, and where the dead letters are. */
    String summary(String model) {
        List<Letter> dead = unscored(model);
        long scored = count(model) - dead.size();
        if (dead.isEmpty()) {
            return String.format("%,d scored, none dead-lettered", scored);
        }
        TreeSet<String> topics = new TreeSet<>();
        dead.forEach(l -> topics.add(l.topic()));
        return String.format("%,d scored, %,d dead-lettered: see %s", scored, dead.size(), String.join(", ", topics));
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
