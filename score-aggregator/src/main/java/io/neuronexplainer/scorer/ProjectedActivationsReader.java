package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronStats;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.UnboxedFloats;
import io.neuronexplainer.schemas.WindowKind;
import io.neuronexplainer.schemas.WindowMax;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;

/**
 * Reads an {@link ActivationsProjection}'s fields of a NeuronActivations written in
 * NeuronActivations' own schema, in the schema's order, skipping the rest without decoding it and
 * reading activations straight into float arrays. Written by hand because Avro's resolving reader
 * boxes each float and skips each token string through its generic machinery: reading the
 * projections was the largest single cost of the scorer's stream threads (15% of JFR samples).
 * {@link ActivationsProjection} uses it only when the writer's schema equals NeuronActivations';
 * any other writer goes through Avro's resolution. A field added to NeuronActivations.avsc or to
 * the records in it must be added here too: {@code ActivationsProjectionTest} compares every
 * projection with Avro's own reading and with the record written (a field added at the record's
 * end also fails here on the bytes left over; one added inside a window would be misread).
 */
final class ProjectedActivationsReader {
    private static final WindowKind[] KINDS = WindowKind.values();
    private static final Schema ACTIVATIONS = ActivationWindow.getClassSchema().getField("activations").schema();

    private final Set<String> lists;
    private final boolean tokens;
    private final boolean activations;
    private final boolean maxima;
    private final Set<String> runFields;

    /**
     * @param lists     the window lists kept (the others are read as empty)
     * @param window    the window fields kept besides index and kind: {@code tokens}, {@code activations}
     * @param maxima    whether random_window_maxima is kept
     * @param runFields the run's fields kept: {@code run_id}, {@code series_id}, {@code step}
     */
    ProjectedActivationsReader(Set<String> lists, Set<String> window, boolean maxima, Set<String> runFields) {
        this.lists = lists;
        this.tokens = window.contains("tokens");
        this.activations = window.contains("activations");
        this.maxima = maxima;
        this.runFields = runFields;
    }

    NeuronActivations read(BinaryDecoder in) throws IOException {
        NeuronKey neuron = new NeuronKey(in.readString(), in.readString(), in.readInt(), in.readInt());
        List<ActivationWindow> explanation = windows(in, lists.contains("explanation_windows"));
        List<ActivationWindow> top = windows(in, lists.contains("scoring_top_windows"));
        List<ActivationWindow> random = windows(in, lists.contains("scoring_random_windows"));
        in.skipFixed(4 + 8); // stats: max_activation (float), mean_activation (double)
        in.readLong(); // windows_seen
        in.readLong(); // tokens_seen
        String runId = in.readString();
        in.skipString(); // corpus
        in.readInt(); // window_tokens
        in.readInt(); // top_k
        in.readInt(); // random_windows
        in.readLong(); // seed
        in.readLong(); // produced_at
        String seriesId = in.readString();
        long step = in.readLong();
        List<WindowMax> kept = maxima ? new ArrayList<>() : List.of();
        for (long n = in.readArrayStart(); n > 0; n = in.arrayNext()) {
            for (long i = 0; i < n; i++) {
                long index = in.readLong();
                float max = in.readFloat();
                if (maxima) {
                    kept.add(new WindowMax(index, max));
                }
            }
        }
        if (!in.isEnd()) {
            throw new IOException("bytes left after a NeuronActivations: written in another schema than the one this reader knows");
        }
        return new NeuronActivations(neuron, explanation, top, random, new NeuronStats(0f, 0.0, 0L, 0L),
                new ProducerRun(runFields.contains("run_id") ? runId : "", "", 0, 0, 0, 0L, Instant.EPOCH,
                        runFields.contains("series_id") ? seriesId : "", runFields.contains("step") ? step : -1L), kept);
    }

    /** A window list, read if kept, else skipped (and read as empty). */
    private List<ActivationWindow> windows(BinaryDecoder in, boolean keep) throws IOException {
        List<ActivationWindow> out = keep ? new ArrayList<>() : List.of();
        for (long n = in.readArrayStart(); n > 0; n = in.arrayNext()) {
            for (long i = 0; i < n; i++) {
                long index = in.readLong();
                WindowKind kind = kind(in.readEnum());
                List<String> words = keep && tokens ? strings(in) : skipStrings(in);
                for (long m = in.skipArray(); m > 0; m = in.skipArray()) { // token_ids: varints, skipped one by one
                    for (long j = 0; j < m; j++) {
                        in.readInt();
                    }
                }
                List<Float> values = keep && activations ? UnboxedFloats.read(in, ACTIVATIONS) : skipFloats(in);
                in.skipFixed(4); // max_activation
                if (keep) {
                    out.add(new ActivationWindow(index, kind, words, List.of(), values, 0f));
                }
            }
        }
        return out;
    }

    private static List<String> strings(BinaryDecoder in) throws IOException {
        List<String> out = new ArrayList<>();
        for (long n = in.readArrayStart(); n > 0; n = in.arrayNext()) {
            for (long i = 0; i < n; i++) {
                out.add(in.readString());
            }
        }
        return out;
    }

    private static List<String> skipStrings(BinaryDecoder in) throws IOException {
        for (long n = in.skipArray(); n > 0; n = in.skipArray()) {
            for (long i = 0; i < n; i++) {
                in.skipString();
            }
        }
        return List.of();
    }

    private static List<Float> skipFloats(BinaryDecoder in) throws IOException {
        for (long n = in.skipArray(); n > 0; n = in.skipArray()) {
            in.skipFixed((int) (4 * n));
        }
        return List.of();
    }

    private static WindowKind kind(int symbol) throws IOException {
        if (symbol < 0 || symbol >= KINDS.length) {
            throw new IOException("WindowKind symbol " + symbol + " out of range");
        }
        return KINDS[symbol];
    }
}
