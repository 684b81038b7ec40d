package io.neuronexplainer.schemas;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.AbstractList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

/**
 * An unmodifiable Avro array shared by many records, whose binary encoding is computed once and
 * copied by {@link AvroSerializer}: a 64-token window's token texts and ids appear in the records of
 * every neuron that shows the window, and encoding the texts again for each record (UTF-8, a string
 * at a time) was a quarter of the activation producer's emission.
 */
public final class SharedAvroArray<T> extends AbstractList<T> {
    private static final ThreadLocal<BinaryEncoder> ENCODERS = new ThreadLocal<>();

    private final List<T> items;
    private volatile Encoded encoded;

    private record Encoded(Schema schema, byte[] bytes) {}

    /** @param items not copied: must not change afterwards */
    public SharedAvroArray(List<T> items) {
        this.items = items;
    }

    @Override
    public T get(int index) {
        return items.get(index);
    }

    @Override
    public int size() {
        return items.size();
    }

    /**
     * The array's Avro binary encoding under {@code arraySchema}: blocks with their item count and
     * their size in bytes (Avro's blocking encoding; one block up to 64 KB), then the end marker.
     * Readers that do not want the array skip it in one step by its size instead of item by item:
     * the scorer skips every window's token texts and ids, most of a neuron's record.
     */
    byte[] encoding(Schema arraySchema) {
        Encoded e = encoded;
        if (e == null || !e.schema().equals(arraySchema)) {
            // Racing threads may both encode: same bytes, no harm.
            ByteArrayOutputStream out = new ByteArrayOutputStream(items.size() * 4 + 8);
            // Reused per thread: a blocking encoder holds a 64 KB block buffer, and a run encodes
            // two arrays for each of tens of thousands of windows.
            BinaryEncoder encoder = EncoderFactory.get().blockingBinaryEncoder(out, ENCODERS.get());
            ENCODERS.set(encoder);
            try {
                new GenericDatumWriter<List<T>>(arraySchema).write(items, encoder);
                encoder.flush();
            } catch (IOException | RuntimeException ex) {
                ENCODERS.remove(); // a write cut short may leave a block open in the encoder
                throw ex instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) ex;
            }
            e = new Encoded(arraySchema, out.toByteArray());
            encoded = e;
        }
        return e.bytes();
    }
}
