package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronStats;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.RegistryClient;
import io.neuronexplainer.schemas.WindowKind;
import io.neuronexplainer.schemas.WindowMax;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads only some fields of a NeuronActivations record: the others are skipped without decoding
 * them (a record is mostly the windows' token strings, and decoding strings was most of the
 * scorer's work). A record in NeuronActivations' own schema is read by hand
 * ({@link ProjectedActivationsReader}); one in any other writer's schema by Avro's schema resolution
 * to the projection's schema, one reader kept per writer schema and thread. The result is a
 * NeuronActivations whose fields left out are empty (lists), zero (stats) or blank (run), for the
 * scorer's own use only, never to be written anywhere.
 */
public final class ActivationsProjection implements Deserializer<NeuronActivations> {
    private static final Set<String> SCORING_WINDOWS = Set.of("scoring_top_windows", "scoring_random_windows");

    private final RegistryClient registry;
    private final Schema projection;
    private final ProjectedActivationsReader own;
    private final ThreadLocal<Map<Integer, Reading>> readers = ThreadLocal.withInitial(HashMap::new);
    private final ThreadLocal<BinaryDecoder> decoder = new ThreadLocal<>();

    /** How records of one writer schema are read. */
    private interface Reading {
        NeuronActivations read(BinaryDecoder in) throws IOException;
    }

    /**
     * @param lists     the window lists kept
     * @param window    the window fields kept besides window_index and kind
     * @param maxima    whether random_window_maxima is kept
     * @param runFields the run's fields kept
     */
    private ActivationsProjection(RegistryClient registry, Set<String> lists, Set<String> window, boolean maxima,
                                  Set<String> runFields) {
        this.registry = registry;
        this.own = new ProjectedActivationsReader(lists, window, maxima, runFields);
        Schema windows = windows(window);
        Map<String, Schema> kept = new HashMap<>();
        lists.forEach(list -> kept.put(list, windows));
        if (maxima) {
            kept.put("random_window_maxima", NeuronActivations.getClassSchema().getField("random_window_maxima").schema());
        }
        this.projection = record(kept, runFields);
    }

    /** What scoring needs: the key, the run id, the scoring windows' indexes, kinds and activations. */
    public static ActivationsProjection scoring(RegistryClient registry) {
        return new ActivationsProjection(registry, SCORING_WINDOWS, Set.of("activations"), false, Set.of("run_id"));
    }

    /**
     * What the drift tracker keeps: the run's place in its series, every top window's index and the
     * random sample's maxima.
     */
    public static ActivationsProjection drift(RegistryClient registry) {
        return new ActivationsProjection(registry, Set.of("explanation_windows", "scoring_top_windows"), Set.of(), true,
                Set.of("run_id", "series_id", "step"));
    }

    /** What a simulation request needs: the scoring windows' indexes, kinds and tokens. */
    public static ActivationsProjection scoringTokens(RegistryClient registry) {
        return new ActivationsProjection(registry, SCORING_WINDOWS, Set.of("tokens"), false, Set.of("run_id"));
    }

    /** An array of windows with their index, kind and the given fields, in the window's order. */
    private static Schema windows(Set<String> fields) {
        Schema window = ActivationWindow.getClassSchema();
        List<Schema.Field> kept = new ArrayList<>();
        for (Schema.Field f : window.getFields()) {
            if (f.name().equals("window_index") || f.name().equals("kind") || fields.contains(f.name())) {
                kept.add(copy(f));
            }
        }
        return Schema.createArray(Schema.createRecord(window.getName(), null, window.getNamespace(), false, kept));
    }

    /** The record's projection: its key, the given top-level fields, and the given fields of its run. */
    private static Schema record(Map<String, Schema> fields, Set<String> runFields) {
        Schema full = NeuronActivations.getClassSchema();
        List<Schema.Field> kept = new ArrayList<>();
        kept.add(copy(full.getField("neuron")));
        for (Schema.Field f : full.getFields()) { // in the record's order
            if (fields.containsKey(f.name())) {
                kept.add(new Schema.Field(f.name(), fields.get(f.name()), null, f.defaultVal()));
            }
        }
        Schema run = ProducerRun.getClassSchema();
        List<Schema.Field> runKept = new ArrayList<>();
        for (Schema.Field f : run.getFields()) {
            if (runFields.contains(f.name())) {
                runKept.add(copy(f));
            }
        }
        kept.add(new Schema.Field("run", Schema.createRecord(run.getName(), null, run.getNamespace(), false, runKept)));
        return Schema.createRecord(full.getName(), null, full.getNamespace(), false, kept);
    }

    private static Schema.Field copy(Schema.Field f) {
        return new Schema.Field(f.name(), f.schema(), null, f.defaultVal());
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
        // Outside the try: a registry that cannot be reached is its own fault, not the record's.
        Reading reading = readers.get().computeIfAbsent(id, this::reading);
        BinaryDecoder d = DecoderFactory.get().binaryDecoder(data, 5, data.length - 5, decoder.get());
        decoder.set(d);
        try {
            return reading.read(d);
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot read NeuronActivations on topic " + topic + " with schema id " + id
                    + ": " + e.getMessage(), e);
        }
    }

    private Reading reading(int writerId) {
        Schema writer = registry.byId(writerId);
        if (writer.equals(NeuronActivations.getClassSchema())) {
            return own::read;
        }
        GenericDatumReader<GenericRecord> resolving = new GenericDatumReader<>(writer, projection);
        return in -> fromProjection(resolving.read(null, in));
    }

    /** The projection's record as a NeuronActivations, as {@link ProjectedActivationsReader} reads it. */
    private static NeuronActivations fromProjection(GenericRecord r) {
        GenericRecord k = (GenericRecord) r.get("neuron");
        NeuronKey key = new NeuronKey(k.get("model").toString(), k.get("checkpoint").toString(),
                (Integer) k.get("layer"), (Integer) k.get("neuron"));
        GenericRecord run = (GenericRecord) r.get("run");
        return new NeuronActivations(key, windows(r, "explanation_windows"), windows(r, "scoring_top_windows"),
                windows(r, "scoring_random_windows"), new NeuronStats(0f, 0.0, 0L, 0L),
                new ProducerRun(text(run, "run_id"), "", 0, 0, 0, 0L, Instant.EPOCH, text(run, "series_id"),
                        run.hasField("step") ? (Long) run.get("step") : -1L), maxima(r));
    }

    private static String text(GenericRecord r, String field) {
        return r.hasField(field) ? r.get(field).toString() : "";
    }

    @SuppressWarnings("unchecked")
    private static List<ActivationWindow> windows(GenericRecord r, String field) {
        if (!r.hasField(field)) {
            return List.of();
        }
        List<GenericRecord> records = (List<GenericRecord>) r.get(field);
        List<ActivationWindow> out = new ArrayList<>(records.size());
        for (GenericRecord w : records) {
            List<String> tokens = List.of();
            if (w.hasField("tokens")) {
                List<CharSequence> read = (List<CharSequence>) w.get("tokens");
                tokens = new ArrayList<>(read.size());
                for (CharSequence t : read) {
                    tokens.add(t.toString());
                }
            }
            out.add(new ActivationWindow((Long) w.get("window_index"), WindowKind.valueOf(w.get("kind").toString()), tokens,
                    List.of(), w.hasField("activations") ? (List<Float>) w.get("activations") : List.of(), 0f));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<WindowMax> maxima(GenericRecord r) {
        if (!r.hasField("random_window_maxima")) {
            return List.of();
        }
        List<GenericRecord> read = (List<GenericRecord>) r.get("random_window_maxima");
        List<WindowMax> out = new ArrayList<>(read.size());
        for (GenericRecord m : read) {
            out.add(new WindowMax((Long) m.get("window_index"), (Float) m.get("max_activation")));
        }
        return out;
    }
}
