package io.neuronexplainer.schemas;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Serdes of the generated record classes, for producers, consumers and Kafka Streams. */
public final class AvroSerde {
    private AvroSerde() {}

    public static <T extends SpecificRecord> Serde<T> of(RegistryClient registry, Class<T> type, boolean isKey) {
        AvroSerializer<T> serializer = new AvroSerializer<>(registry, isKey);
        return Serdes.serdeFrom(serializer, AvroDeserializer.of(registry, type));
    }
}
