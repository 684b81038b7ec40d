package io.neuronexplainer.schemas;

import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.producer.Partitioner;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.utils.Utils;

/**
 * Sends a neuron's activations (keyed by neuron and run) to the partition its simulations go to,
 * so the scorer's tasks see both sides of each neuron's join without a repartition topic.
 *
 * <p>Simulations are keyed by {@link NeuronKey} and placed by Kafka's default rule (murmur2 of the
 * key bytes). An {@link ActivationsKey} is placed by the same rule applied to its neuron serialized
 * as a simulation key, whether the record is sent typed or as bytes already encoded (as redrive and
 * the benchmarks send). Every other record is placed by the default rule. Kafka has no hook to
 * partition by a part of a key, hence this class.
 */
public class NeuronPartitioner implements Partitioner {
    private AvroSerializer<NeuronKey> neuronKeys;
    private AvroDeserializer<ActivationsKey> activationsKeys;

    @Override
    public void configure(Map<String, ?> configs) {
        Object url = configs.get(RegistryClient.URL_CONFIG);
        if (url == null) {
            throw new IllegalArgumentException("missing " + RegistryClient.URL_CONFIG + " for " + getClass().getSimpleName());
        }
        RegistryClient registry = RegistryClient.shared(url.toString());
        neuronKeys = new AvroSerializer<>(registry, true);
        activationsKeys = AvroDeserializer.of(registry, ActivationsKey.class);
    }

    @Override
    public int partition(String topic, Object key, byte[] keyBytes, Object value, byte[] valueBytes, Cluster cluster) {
        int partitions = cluster.partitionsForTopic(topic).size();
        if (keyBytes == null) {
            return ThreadLocalRandom.current().nextInt(partitions);
        }
        if (Topics.NEURON_ACTIVATIONS.equals(topic)) {
            NeuronKey neuron = neuronOf(key, keyBytes);
            if (neuron != null) {
                return ofNeuron(neuron, neuronKeys, partitions);
            }
        }
        return of(keyBytes, partitions);
    }

    /**
     * The partition of a neuron's activations: its simulations' ({@code keys} serialising record keys
     * against the same registry), for a sender that places its records itself.
     */
    public static int ofNeuron(NeuronKey neuron, AvroSerializer<? super NeuronKey> keys, int partitions) {
        return of(keys.serialize(Topics.NEURON_SIMULATIONS, neuron), partitions);
    }

    /** Kafka's default placement of a key: murmur2 of its bytes. */
    public static int of(byte[] keyBytes, int partitions) {
        return Utils.toPositive(Utils.murmur2(keyBytes)) % partitions;
    }

    private NeuronKey neuronOf(Object key, byte[] keyBytes) {
        if (key instanceof ActivationsKey k) {
            return k.getNeuron();
        }
        try {
            return activationsKeys.deserialize(Topics.NEURON_ACTIVATIONS, keyBytes).getNeuron();
        } catch (RuntimeException notAnActivationsKey) {
            return null; // undecodable bytes are placed as any other key; the readers dead-letter them
        }
    }

    @Override
    public void close() {}
}
