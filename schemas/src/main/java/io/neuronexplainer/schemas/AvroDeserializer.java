package io.neuronexplainer.schemas;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.io.DatumReader;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent-wire-format Avro. The writer's schema comes from the registry by id; with a
 * reader class the record is resolved to that class's schema, so an older reader reads a newer
 * writer's records (and the reverse, within the subject's compatibility rule).
 */
public class AvroDeserializer<T> implements Deserializer<T> {
    /** Config key naming the generated class to read into; absent means GenericRecord. */
    public static final String READER_CLASS_CONFIG = "neuron.avro.reader.class";

    /** Decoders are reset per record; reusing one per thread saves its buffers. */
    private static final ThreadLocal<BinaryDecoder> DECODERS = new ThreadLocal<>();

    private RegistryClient registry;
    private Schema readerSchema;
    private boolean specific;
    /** A hand-written reader for records in the reader class's own schema, or null (see {@link SimulationReader}). */
    private DatumReader<T> sameSchema;
    // One reader per writer schema id: building the resolving reader per record dominated the cost.
    private final Map<Integer, DatumReader<T>> readers = new ConcurrentHashMap<>();

    public AvroDeserializer() {}

    /** Reads GenericRecords resolved to {@code readerSchema}, or as written when it is null. */
    public AvroDeserializer(RegistryClient registry, Schema readerSchema) {
        this.registry = registry;
        this.readerSchema = readerSchema;
    }

    /** Reads into the generated class {@code type}. */
    public static <T extends org.apache.avro.specific.SpecificRecord> AvroDeserializer<T> of(RegistryClient registry, Class<T> type) {
        AvroDeserializer<T> deserializer = new AvroDeserializer<>(registry, SpecificData.get().getSchema(type));
        deserializer.specific = true;
        deserializer.sameSchema = sameSchemaReader(type);
        return deserializer;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        if (registry == null) {
            registry = RegistryClient.shared(registryUrl(configs));
        }
        Object type = configs.get(READER_CLASS_CONFIG);
        if (readerSchema == null && type != null) {
            try {
                Class<?> reading = type instanceof Class<?> c ? c : Class.forName(type.toString());
                readerSchema = SpecificData.get().getSchema(reading);
                specific = true;
                sameSchema = sameSchemaReader(reading);
            } catch (ClassNotFoundException e) {
                throw new IllegalArgumentException(READER_CLASS_CONFIG + " names no class: " + type, e);
            }
        }
    }

    static String registryUrl(Map<String, ?> configs) {
        Object url = configs.get(RegistryClient.URL_CONFIG);
        if (url == null || url.toString().isBlank()) {
            throw new IllegalArgumentException("missing " + RegistryClient.URL_CONFIG + " in the serde configuration");
        }
        return url.toString();
    }

    @SuppressWarnings("unchecked")
    private static <T> DatumReader<T> sameSchemaReader(Class<?> type) {
        return type == Simulation.class ? (DatumReader<T>) new SimulationReader() : null;
    }

    @SuppressWarnings("unchecked")
    private DatumReader<T> reader(int writerId) {
        Schema writer = registry.byId(writerId);
        if (sameSchema != null && writer.equals(readerSchema)) {
            return sameSchema;
        }
        if (!specific) {
            return (DatumReader<T>) new GenericDatumReader<>(writer, readerSchema == null ? writer : readerSchema);
        }
        return (DatumReader<T>) new SpecificDatumReader<>(writer, readerSchema, SpecificData.getForSchema(readerSchema));
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (data.length < 5 || data[0] != AvroSerializer.MAGIC) {
            throw new SerializationException("record on topic " + topic + " is not in the Confluent Avro wire format ("
                    + (data.length < 5 ? data.length + " bytes" : "first byte " + data[0]) + ")");
        }
        int id = ByteBuffer.wrap(data, 1, 4).getInt();
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, 5, data.length - 5, DECODERS.get());
        DECODERS.set(decoder);
        try {
            return readers.computeIfAbsent(id, this::reader).read(null, decoder);
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot read Avro record on topic " + topic + " with schema id " + id
                    + ": " + e.getMessage(), e);
        }
    }
}
