package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Topics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Finds a neuron's entries in the activations store, which is keyed by neuron and run: a prefix
 * scan over the key bytes the neuron's fields make. Avro writes a record as its fields in order,
 * so every key of a neuron starts with the bytes of the key with an empty run id, less that empty
 * string's one length byte. This assumes every key of the topic was written with one
 * {@code ActivationsKey} schema id (the store holds the keys' bytes as they came): an evolved key
 * schema would need its own prefix.
 */
final class NeuronRuns implements Serializer<NeuronKey> {
    private final Serializer<ActivationsKey> keys;

    NeuronRuns(Serializer<ActivationsKey> keys) {
        this.keys = keys;
    }

    /** The neuron's key prefix. The store passes no topic: the activations topic's subject is meant. */
    @Override
    public byte[] serialize(String ignored, NeuronKey neuron) {
        byte[] full = keys.serialize(Topics.NEURON_ACTIVATIONS, new ActivationsKey(neuron, ""));
        return Arrays.copyOf(full, full.length - 1);
    }

    /** Every entry of the neuron in {@code store}, one per run. */
    <V> List<KeyValue<ActivationsKey, V>> of(ReadOnlyKeyValueStore<ActivationsKey, V> store, NeuronKey neuron) {
        List<KeyValue<ActivationsKey, V>> out = new ArrayList<>();
        try (KeyValueIterator<ActivationsKey, V> it = store.prefixScan(neuron, this)) {
            while (it.hasNext()) {
                KeyValue<ActivationsKey, V> kv = it.next();
                if (kv.key.getNeuron().equals(neuron)) { // a prefix match is exact for Avro, checked anyway
                    out.add(kv);
                }
            }
        }
        return out;
    }
}
