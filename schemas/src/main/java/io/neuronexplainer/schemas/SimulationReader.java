package io.neuronexplainer.schemas;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.PrimitivesArrays;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.Decoder;

/**
 * Reads a Simulation written in Simulation's own schema, field by field in the schema's order, its
 * predicted activations straight into float arrays. Written by hand because Avro's reader boxes
 * each float and adds it to its array through a generic call per element: decoding simulations was
 * a fifth of the scorer's stream thread (JFR), for 640 floats a simulation. {@link AvroDeserializer}
 * uses it only when the writer's schema equals Simulation's; any other writer goes through Avro's
 * resolving reader. A field added to Simulation.avsc must be added here too: reading fails on bytes
 * left over, and {@code SchemaRoundTripTest} compares every field with Avro's own reading.
 */
final class SimulationReader implements DatumReader<Simulation> {
    private static final WindowKind[] KINDS = WindowKind.values();
    private static final Schema PREDICTED = SimulatedWindow.getClassSchema().getField("predicted").schema();
    private static final Schema MARKED = Judgement.getClassSchema().getField("marked").schema();

    @Override
    public void setSchema(Schema schema) {
        // Only ever Simulation's own schema: AvroDeserializer checks before using this reader.
    }

    @Override
    public Simulation read(Simulation reuse, Decoder in) throws IOException {
        NeuronKey neuron = new NeuronKey(in.readString(), in.readString(), in.readInt(), in.readInt());
        String explanationId = in.readString();
        String explanationText = in.readString();
        String simulatorMethod = in.readString();
        String simulatorModel = in.readString();
        List<SimulatedWindow> windows = list(in,
                d -> new SimulatedWindow(d.readLong(), kind(d.readEnum()), UnboxedFloats.read(d, PREDICTED)));
        int promptTokens = in.readInt();
        int completionTokens = in.readInt();
        Instant createdAt = Instant.ofEpochMilli(in.readLong());
        String runId = in.readString();
        String carriedFrom = nullableString(in);
        int explainerPromptTokens = in.readInt();
        String explainerMethod = in.readString();
        String scorerKind = in.readString();
        List<Judgement> judgements = list(in, SimulationReader::judgement);
        if (in instanceof BinaryDecoder b && !b.isEnd()) {
            throw new IOException("bytes left after a Simulation: written in another schema than the one this reader knows");
        }
        return new Simulation(neuron, explanationId, explanationText, simulatorMethod, simulatorModel, windows, promptTokens,
                completionTokens, createdAt, runId, carriedFrom, explainerPromptTokens, explainerMethod, scorerKind, judgements);
    }

    /** How one item of an array is read. */
    private interface Item<T> {
        T read(Decoder in) throws IOException;
    }

    /** An array of records: Avro writes it in blocks, each with its count (a negative one followed by its size in bytes). */
    private static <T> List<T> list(Decoder in, Item<T> item) throws IOException {
        List<T> out = new ArrayList<>();
        for (long n = in.readArrayStart(); n > 0; n = in.arrayNext()) {
            for (long i = 0; i < n; i++) {
                out.add(item.read(in));
            }
        }
        return out;
    }

    private static Judgement judgement(Decoder in) throws IOException {
        long windowIndex = in.readLong();
        PrimitivesArrays.IntArray marked = new PrimitivesArrays.IntArray(0, MARKED);
        for (long n = in.readArrayStart(); n > 0; n = in.arrayNext()) {
            for (long i = 0; i < n; i++) {
                marked.add(marked.size(), in.readInt());
            }
        }
        boolean saysYes = in.readBoolean();
        Double yesProbability = union(in) ? in.readDouble() : null;
        return new Judgement(windowIndex, marked, saysYes, yesProbability);
    }

    private static WindowKind kind(int symbol) throws IOException {
        if (symbol < 0 || symbol >= KINDS.length) {
            throw new IOException("WindowKind symbol " + symbol + " out of range");
        }
        return KINDS[symbol];
    }

    /** A ["null", T] union: whether the value is there (branch 1). */
    private static boolean union(Decoder in) throws IOException {
        int branch = in.readIndex();
        if (branch < 0 || branch > 1) {
            throw new IOException("union branch " + branch + " out of range");
        }
        return branch == 1;
    }

    private static String nullableString(Decoder in) throws IOException {
        return union(in) ? in.readString() : null;
    }
}
