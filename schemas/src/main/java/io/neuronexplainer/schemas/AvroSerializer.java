package io.neuronexplainer.schemas;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.PrimitivesArrays;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro records in the Confluent wire format: byte 0, the 4-byte schema id that the
 * registry gave for subject {@code <topic>-key} or {@code <topic>-value}, then Avro binary.
 */
public class AvroSerializer<T extends GenericContainer> implements Serializer<T> {
    static final byte MAGIC = 0;
    private static final ThreadLocal<BinaryEncoder> ENCODERS = new ThreadLocal<>();
    /**
     * A buffer per thread, reused: a neuron's activations (~13 KB) grew a fresh 256-byte stream
     * through six copies. One kept only up to {@link #KEPT_BUFFER_BYTES}, so a rare huge record does
     * not stay in memory.
     */
    private static final ThreadLocal<ByteArrayOutputStream> BUFFERS = ThreadLocal.withInitial(() -> new ByteArrayOutputStream(1024));
    private static final int KEPT_BUFFER_BYTES = 1 << 20;

    private RegistryClient registry;
    private boolean isKey;
    // Writers hold only their schema, so one per schema serves every thread; building one per
    // record cost more than the encoding itself.
    private final Map<Schema, DatumWriter<T>> writers = new ConcurrentHashMap<>();
    // Each topic's subject, made once: a new String per record was hashed again for every lookup.
    private final Map<String, String> subjects = new ConcurrentHashMap<>();

    /** For Kafka's reflective construction; {@link #configure} must follow. */
    public AvroSerializer() {}

    public AvroSerializer(RegistryClient registry, boolean isKey) {
        this.registry = registry;
        this.isKey = isKey;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.isKey = isKey;
        subjects.clear();
        if (registry == null) {
            registry = RegistryClient.shared(AvroDeserializer.registryUrl(configs));
        }
    }

    @Override
    public byte[] serialize(String topic, T data) {
        if (data == null) {
            return null;
        }
        Schema schema = data.getSchema();
        int id = registry.register(subjects.computeIfAbsent(topic, t -> t + (isKey ? "-key" : "-value")), schema);
        ByteArrayOutputStream out = BUFFERS.get();
        out.reset();
        out.write(MAGIC);
        out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
        // A buffered encoder, reused per thread: the direct one writes every float and double
        // byte by byte into the stream, which showed at the top of the scorer's profile.
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, ENCODERS.get());
        ENCODERS.set(encoder);
        try {
            writers.computeIfAbsent(schema, sc -> writer(data, sc)).write(data, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            // A write that failed part way leaves bytes in the encoder, which it would write ahead of the
            // next record into this thread's buffer: both are dropped.
            ENCODERS.remove();
            BUFFERS.remove();
            throw new SerializationException("cannot write " + schema.getFullName() + " for topic " + topic
                    + ": " + e.getMessage(), e);
        }
        byte[] bytes = out.toByteArray();
        if (bytes.length > KEPT_BUFFER_BYTES) {
            BUFFERS.remove();
        }
        return bytes;
    }

    @SuppressWarnings("unchecked")
    private DatumWriter<T> writer(T data, Schema schema) {
        return data instanceof SpecificRecord
                ? new UnboxedArraysWriter<>(schema, SpecificData.getForSchema(schema))
                : new GenericDatumWriter<>(schema);
    }

    /**
     * Avro's writer, except that it writes Avro's own primitive int and float arrays element by
     * element unboxed (Avro iterates them as a List, boxing every value: Float.valueOf was a tenth of
     * the activation producer's emission, 1,000+ floats a record), and likewise a {@link FloatArrayView}
     * and a {@link WindowMaxima}; and copies the bytes of a {@link SharedAvroArray} instead of encoding
     * it again.
     */
    private static final class UnboxedArraysWriter<T> extends SpecificDatumWriter<T> {
        UnboxedArraysWriter(Schema schema, SpecificData data) {
            super(schema, data);
        }

        @Override
        protected void writeArray(Schema schema, Object datum, Encoder out) throws IOException {
            Schema.Type element = schema.getElementType().getType();
            if (datum instanceof SharedAvroArray<?> shared && out instanceof BinaryEncoder) {
                byte[] bytes = shared.encoding(schema);
                out.writeFixed(bytes, 0, bytes.length);
            } else if (element == Schema.Type.FLOAT && datum instanceof PrimitivesArrays.FloatArray floats) {
                writeFloats(out, floats.size(), floats::getFloat);
            } else if (element == Schema.Type.FLOAT && datum instanceof FloatArrayView floats) {
                writeFloats(out, floats.size(), floats::getFloat);
            } else if (datum instanceof WindowMaxima maxima && isWindowMax(schema.getElementType())) {
                int size = maxima.size();
                out.writeArrayStart();
                out.setItemCount(size);
                for (int i = 0; i < size; i++) {
                    out.startItem();
                    out.writeLong(maxima.windowIndex(i));
                    out.writeFloat(maxima.maxActivation(i));
                }
                out.writeArrayEnd();
            } else if (datum instanceof PrimitivesArrays.IntArray ints && element == Schema.Type.INT) {
                int size = ints.size();
                out.writeArrayStart();
                out.setItemCount(size);
                for (int i = 0; i < size; i++) {
                    out.startItem();
                    out.writeInt(ints.getInt(i));
                }
                out.writeArrayEnd();
            } else {
                super.writeArray(schema, datum, out);
            }
        }

        /** Whether records of {@code element} are exactly WindowMax's fields, in its order: window_index (long), max_activation (float). */
        private static boolean isWindowMax(Schema element) {
            if (element.getType() != Schema.Type.RECORD || element.getFields().size() != 2) {
                return false;
            }
            Schema.Field index = element.getFields().get(0);
            Schema.Field max = element.getFields().get(1);
            return index.name().equals("window_index") && index.schema().getType() == Schema.Type.LONG
                    && max.name().equals("max_activation") && max.schema().getType() == Schema.Type.FLOAT;
        }

        private interface FloatAt {
            float at(int index);
        }

        private static void writeFloats(Encoder out, int size, FloatAt values) throws IOException {
            out.writeArrayStart();
            out.setItemCount(size);
            for (int i = 0; i < size; i++) {
                out.startItem();
                out.writeFloat(values.at(i));
            }
            out.writeArrayEnd();
        }
    }
}
