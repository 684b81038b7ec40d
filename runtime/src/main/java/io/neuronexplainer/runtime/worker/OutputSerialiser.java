package io.neuronexplainer.runtime.worker;

import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.RegistryClient;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Turns a record's outputs into the bytes the transaction sends, registering their schemas as needed. */
final class OutputSerialiser {
    private final AvroSerializer<SpecificRecord> keys;
    private final AvroSerializer<SpecificRecord> values;

    OutputSerialiser(RegistryClient registry) {
        this.keys = new AvroSerializer<>(registry, true);
        this.values = new AvroSerializer<>(registry, false);
    }

    List<ProducerRecord<byte[], byte[]>> serialise(List<Output> outputs) {
        if (outputs == null) {
            throw new IllegalStateException("the processor returned no outputs");
        }
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(outputs.size());
        for (Output o : outputs) {
            records.add(new ProducerRecord<>(o.topic(), keys.serialize(o.topic(), o.key()), values.serialize(o.topic(), o.value())));
        }
        return records;
    }

    byte[] value(String topic, SpecificRecord value) {
        return values.serialize(topic, value);
    }
}
