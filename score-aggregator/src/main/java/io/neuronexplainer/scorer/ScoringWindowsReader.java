package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.RegistryClient;
import io.neuronexplainer.schemas.WindowKind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads only what scoring needs from a NeuronActivations record: the key and the scoring
 * windows' indexes, kinds and activations. Avro schema resolution skips the tokens, token ids
 * and explanation windows without decoding them (most of the record), and one reader is kept
 * per writer schema and thread. The result is a NeuronActivations with empty token lists, no
 * stats, no random window maxima, and a run with only its id: for {@link ExplanationScorer} only,
 * never to be written anywhere.
 */
final class ScoringWindowsReader implements Deserializer<NeuronActivations> {
    static final Schema PROJECTION = projection();

    private final RegistryClient registry;
    private final ThreadLocal<Map<Integer, GenericDatumReader<GenericRecord>>> readers = ThreadLocal.withInitial(HashMap::new);
    private final ThreadLocal<BinaryDecoder> decoder = new ThreadLocal<>();

    ScoringWindowsReader(RegistryClient registry) {
        this.registry = registry;
    }

    private static Schema projection() {
        Schema full = NeuronActivations.getClassSchema();
        Schema window = ActivationWindow.getClassSchema();
        Schema thinWindow = Schema.createRecord(window.getName(), null, window.getNamespace(), false, List.of(
                copy(window.getField("window_index")), copy(window.getField("kind")), copy(window.getField("activations"))));
        Schema windows = Schema.createArray(thinWindow);
        Schema run = ProducerRun.getClassSchema();
        Schema thinRun = Schema.createRecord(run.getName(), null, run.getNamespace(), false, List.of(copy(run.getField("run_id"))));
        Schema thin = Schema.createRecord(full.getName(), null, full.getNamespace(), false, List.of(
                copy(full.getField("neuron")),
                new Schema.Field("scoring_top_windows", windows),
                new Schema.Field("scoring_random_windows", windows),
                new Schema.Field("run", thinRun)));
        return thin;
    }

    private static Schema.Field copy(Schema.Field f) {
        return new Schema.Field(f.name(), f.schema());
    }

    @Override
    public NeuronActivations deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (data.length < 5 || data[0] != 0) {
            throw new SerializationException("record on topic " + topic + " is not in the Confluent Avro wire format");
        }
        int id = ByteBuffer.wrap(data, 1, 4).getInt();
        GenericDatumReader<GenericRecord> reader = readers.get()
                .computeIfAbsent(id, i -> new GenericDatumReader<>(registry.byId(i), PROJECTION));
        BinaryDecoder d = DecoderFactory.get().binaryDecoder(data, 5, data.length - 5, decoder.get());
        decoder.set(d);
        try {
            GenericRecord r = reader.read(null, d);
            GenericRecord k = (GenericRecord) r.get("neuron");
            NeuronKey key = new NeuronKey(k.get("model").toString(), k.get("checkpoint").toString(),
                    (Integer) k.get("layer"), (Integer) k.get("neuron"));
            String runId = ((GenericRecord) r.get("run")).get("run_id").toString();
            return new NeuronActivations(key, List.of(), windows(r.get("scoring_top_windows")),
                    windows(r.get("scoring_random_windows")), null, new ProducerRun(runId, "", 0, 0, 0, 0L, Instant.EPOCH, "", -1L), List.of());
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot read NeuronActivations on topic " + topic + " with schema id " + id
                    + ": " + e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<ActivationWindow> windows(Object array) {
        List<GenericRecord> records = (List<GenericRecord>) array;
        List<ActivationWindow> out = new ArrayList<>(records.size());
        for (GenericRecord w : records) {
            out.add(new ActivationWindow((Long) w.get("window_index"), WindowKind.valueOf(w.get("kind").toString()),
                    List.of(), List.of(), (List<Float>) w.get("activations"), 0f));
        }
        return out;
    }
}
