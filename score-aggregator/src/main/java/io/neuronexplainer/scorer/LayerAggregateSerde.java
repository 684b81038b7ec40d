package io.neuronexplainer.scorer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A compact binary serde for {@link LayerAggregate} in its store and changelog: every neuron's
 * update reads and writes its layer's aggregate, so JSON's cost showed up in the profile. Only
 * non-empty histogram bins are written. The format is DataOutputStream's (big-endian, the two
 * strings in its modified UTF-8); the numbers go through a ByteBuffer, as a DataOutputStream over
 * a ByteArrayOutputStream takes a lock per byte and was 7% of the stream thread.
 */
public final class LayerAggregateSerde implements Serde<LayerAggregate> {
    private static final byte VERSION = 1;

    @Override
    public Serializer<LayerAggregate> serializer() {
        return (topic, a) -> {
            if (a == null) {
                return null;
            }
            byte[] head = head(a);
            long[] bins = a.binsView();
            int nonEmpty = 0;
            for (long b : bins) {
                nonEmpty += b != 0 ? 1 : 0;
            }
            ByteBuffer out = ByteBuffer.allocate(head.length + 4 + 3 * 8 + 2 + nonEmpty * 10);
            out.put(head);
            out.putInt(a.layer());
            out.putLong(a.count());
            out.putLong(a.sumFixed());
            out.putLong(a.atLeastGood());
            out.putShort((short) nonEmpty);
            for (int i = 0; i < bins.length; i++) {
                if (bins[i] != 0) {
                    out.putShort((short) i);
                    out.putLong(bins[i]);
                }
            }
            return out.array();
        };
    }

    /** The version and the two strings, as DataOutputStream writes them. */
    private static byte[] head(LayerAggregate a) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(VERSION);
            out.writeUTF(a.model());
            out.writeUTF(a.checkpoint());
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
                // The rest from a buffer at the strings' end: DataInputStream reads it a byte at a time.
                ByteBuffer rest = ByteBuffer.wrap(data, data.length - in.available(), in.available());
                int layer = rest.getInt();
                long count = rest.getLong();
                long sum = rest.getLong();
                long good = rest.getLong();
                long[] bins = new long[LayerAggregate.BINS];
                int n = rest.getShort();
                for (int i = 0; i < n; i++) {
                    int idx = rest.getShort();
                    bins[idx] = rest.getLong();
                }
                return new LayerAggregate(model, checkpoint, layer, count, sum, good, bins);
            } catch (IOException | BufferUnderflowException | IndexOutOfBoundsException e) {
                throw new SerializationException("cannot read a layer aggregate from " + topic, e);
            }
        };
    }
}
