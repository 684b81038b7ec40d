package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/**
 * The export's {@code random_window_maxima} per neuron and checkpoint (no broker: the document is
 * plain Java), and records written before the field existed still read, with an empty list.
 */
class RandomWindowMaximaExportTest {
    private static final List<List<Float>> TOP = List.of(List.of(0f, 2f, 1f));
    private static final List<List<Float>> RANDOM = List.of(List.of(0.1f, 0.4f, 0f), List.of(0f, 0f, 0.2f));

    @Test
    void theNeuronDocumentHoldsTheMaxOnEverySampledWindowInSampleOrder() {
        NeuronKey key = Fixtures.key(2, 7);
        ObjectNode doc = NeuronDocument.of(key, Fixtures.activations(key, TOP, RANDOM), List.of(), List.of());
        assertEquals(key.getCheckpoint(), doc.at("/neuron/checkpoint").asText(), "one document per neuron and checkpoint");
        JsonNode maxima = doc.get("random_window_maxima");
        assertEquals(4, maxima.size());
        long[] indexes = {1000, 1001, 2000, 2001};
        float[] values = {0.4f, 0.2f, 0.5f, 1.25f};
        for (int i = 0; i < indexes.length; i++) {
            assertEquals(indexes[i], maxima.get(i).get("window_index").asLong());
            assertEquals(values[i], maxima.get(i).get("max_activation").floatValue(), 1e-7);
            assertEquals(2, maxima.get(i).size(), "window_index and max_activation only");
        }
    }

    @Test
    void aRecordWrittenBeforeTheFieldReadsWithNoMaxima() throws IOException {
        Schema current = NeuronActivations.getClassSchema();
        Schema old = withoutField(current, "random_window_maxima");
        assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
                SchemaCompatibility.checkReaderWriterCompatibility(current, old).getType(),
                "BACKWARD: the new schema reads the old records");

        NeuronKey key = Fixtures.key(1, 3);
        NeuronActivations full = Fixtures.activations(key, TOP, RANDOM);
        // The record as an old producer wrote it: every field but the new one.
        GenericData.Record oldRecord = new GenericData.Record(old);
        GenericData.Record asGeneric = toGeneric(full);
        for (Schema.Field f : old.getFields()) {
            oldRecord.put(f.name(), asGeneric.get(f.name()));
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new GenericDatumWriter<GenericData.Record>(old).write(oldRecord, encoder);
        encoder.flush();

        NeuronActivations read = new SpecificDatumReader<NeuronActivations>(old, current)
                .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
        assertEquals(full.getScoringRandomWindows(), read.getScoringRandomWindows());
        assertTrue(read.getRandomWindowMaxima().isEmpty());
        ObjectNode doc = NeuronDocument.of(key, read, List.of(), List.of());
        assertEquals(0, doc.get("random_window_maxima").size(), "exported as an empty list");
    }

    private static Schema withoutField(Schema record, String name) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : record.getFields()) {
            if (!f.name().equals(name)) {
                fields.add(new Schema.Field(f, f.schema()));
            }
        }
        return Schema.createRecord(record.getName(), record.getDoc(), record.getNamespace(), false, fields);
    }

    /** A specific record as a generic one of the same schema, through its bytes. */
    private static GenericData.Record toGeneric(NeuronActivations r) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new SpecificDatumWriter<NeuronActivations>(NeuronActivations.getClassSchema()).write(r, encoder);
        encoder.flush();
        return new org.apache.avro.generic.GenericDatumReader<GenericData.Record>(NeuronActivations.getClassSchema())
                .read(null, DecoderFactory.get().binaryDecoder(bytes.toByteArray(), null));
    }
}
