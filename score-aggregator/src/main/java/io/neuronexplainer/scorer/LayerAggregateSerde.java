package io.neuronexplainer.scorer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A compact binary serde for {@link LayerAggregate} in its store and changelog: every neuron's
 * update reads and writes its layer's aggregate, so JSON's cost showed up in the profile. Only
 * non-empty histogram bins are written.
 */
public final class LayerAggregateSerde implements Serde<LayerAggregate> {
    private static final byte VERSION = 1;

    @Override
    public Serializer<LayerAggregate> serializer() {
        return (topic, a) -> {
            if (a == null) {
                return null;
            }
            try {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
                DataOutputStream out = new DataOutputStream(bytes);
                out.writeByte(VERSION);
                out.writeUTF(a.model());
                out.writeUTF(a.checkpoint());
                out.writeInt(a.layer());
                out.writeLong(a.count());
                out.writeLong(a.sumFixed());
                out.writeLong(a.atLeastGood());
                long[] bins = a.binsView();
                int nonEmpty = 0;
                for (long b : bins) {
                    nonEmpty += b != 0 ? 1 : 0;
                }
                out.writeShort(nonEmpty);
                for (int i = 0; i < bins.length; i++) {
                    if (bins[i] != 0) {
                        out.writeShort(i);
                        out.writeLong(bins[i]);
                    }
                }
                return bytes.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    @Override
    public Deserializer<LayerAggregate> deserializer() {
        return (topic, data) -> {
            if (data == null) {
                return null;
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
                if (in.readByte() != VERSION) {
                    throw new SerializationException("unknown layer aggregate format in " + topic);
                }
                String model = in.readUTF();
                String checkpoint = in.readUTF();
                int layer = in.readInt();
                long count = in.readLong();
                long sum = in.readLong();
                long good = in.readLong();
                long[] bins = new long[LayerAggregate.BINS];
                int n = in.readShort();
                for (int i = 0; i < n; i++) {
                    int idx = in.readShort();
                    bins[idx] = in.readLong();
                }
                return new LayerAggregate(model, checkpoint, layer, count, sum, good, bins);
            } catch (IOException e) {
                throw new SerializationException("cannot read a layer aggregate from " + topic, e);
            }
        };
    }
}
