package io.neuronexplainer.bench.chaos;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.ScoreKey;
import io.neuronexplainer.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Counts the committed score records of every neuron on {@code neuron-scores}, read from its first
 * offset with read_committed as they are committed. Every record is counted when read, so what the
 * log cleaner might later compact away is counted all the same (it never touches the active
 * segment anyway, and a run stays far inside one).
 */
final class ScoreCensus implements AutoCloseable {
    /** The verdict on the neurons a run was to score. */
    record Tally(int neurons, int scoredOnce, int lost, int duplicated, int unexpected, List<String> lostNeurons,
                 List<String> duplicatedNeurons) {}

    private final CommittedTopicReader reader;
    private final AvroDeserializer<ScoreKey> keys;
    private final Map<String, Integer> scoresPerNeuron = new HashMap<>();
    private long records;

    ScoreCensus(KafkaClients clients) {
        this.reader = new CommittedTopicReader(clients, List.of(Topics.NEURON_SCORES));
        this.keys = AvroDeserializer.of(clients.registry(), ScoreKey.class);
    }

    /** The name a neuron is counted under: model/checkpoint/layer:neuron. */
    static String name(NeuronKey n) {
        return n.getModel() + "/" + n.getCheckpoint() + "/" + n.getLayer() + ":" + n.getNeuron();
    }

    /** Reads the scores committed since the last call, waiting at most {@code wait}. */
    void poll(Duration wait) {
        reader.poll(wait, r -> {
            ScoreKey key = keys.deserialize(Topics.NEURON_SCORES, r.key());
            scoresPerNeuron.merge(name(key.getNeuron()), 1, Integer::sum);
            records++;
        });
    }

    /** Neurons with at least one score so far. */
    int scored() {
        return scoresPerNeuron.size();
    }

    long records() {
        return records;
    }

    boolean caughtUp() {
        return reader.caughtUp();
    }

    RuntimeException lastFailure() {
        return reader.lastFailure();
    }

    /** Each of {@code expected}: scored exactly once, never (lost) or more than once (duplicated). */
    Tally tally(Collection<String> expected) {
        int once = 0;
        List<String> lost = new ArrayList<>();
        List<String> duplicated = new ArrayList<>();
        for (String neuron : expected) {
            int n = scoresPerNeuron.getOrDefault(neuron, 0);
            if (n == 0) {
                lost.add(neuron);
            } else if (n == 1) {
                once++;
            } else {
                duplicated.add(neuron + " x" + n);
            }
        }
        Set<String> others = new HashSet<>(scoresPerNeuron.keySet());
        others.removeAll(new HashSet<>(expected));
        return new Tally(expected.size(), once, lost.size(), duplicated.size(), others.size(), lost, duplicated);
    }

    @Override
    public void close() {
        reader.close();
    }
}
