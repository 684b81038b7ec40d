package io.neuronexplainer.scorer;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A record decoded from a topic, kept with the bytes it came in, so a store holding it writes those
 * bytes instead of encoding it again (encoding each simulation for its store was a tenth of the
 * scorer's stream thread). The bytes are the topic's own: same wire format, so the store and its
 * changelog read as before; a record from an older writer keeps that writer's schema id.
 */
public record Decoded<T>(T value, byte[] bytes) {

    /** {@code avro}'s format, decoding once and writing back the bytes decoded. */
    public static <T> Serde<Decoded<T>> serde(Serde<T> avro) {
        Deserializer<T> reader = avro.deserializer();
        Deserializer<Decoded<T>> decode = (topic, data) -> {
            if (data == null) {
                return null;
            }
            T value = reader.deserialize(topic, data);
            return value == null ? null : new Decoded<>(value, data);
        };
        Serializer<Decoded<T>> encode = (topic, decoded) -> decoded == null ? null : decoded.bytes();
        return Serdes.serdeFrom(encode, decode);
    }
}
