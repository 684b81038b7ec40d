package io.neuronexplainer.producer;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import io.neuronexplainer.producer.sampling.WindowReservoir;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Every neuron's value at every token of the windows that are, so far, the random sample's first
 * {@code first}: those scoring draws its random windows from. The pass copies a window's values
 * here as it enters them, so the emission need not run the model over them again (a second of
 * GPT-2 small's emission). Not part of the pass state: the windows a restored pass took before its
 * snapshot, and other shards' windows in a merged sample, are run again at the emission. Holds at
 * most {@code first + 1} windows: whenever one more enters, those no longer among the first leave.
 */
final class SampleWindowValues {
    /** Memory the values may take; they are held through the pass and its emission. */
    static final long MAX_BYTES = 512L << 20;

    private final int first;
    private final int layers;
    private final int valuesPerWindow;
    // Window index -> per layer (in the pass's order), [token * neurons + neuron].
    private final Map<Long, float[][]> values = new HashMap<>();
    /** The values of the window that last left the first ones: the next entrant's buffer. */
    private float[][] spare;

    private SampleWindowValues(int first, int layers, int valuesPerWindow) {
        this.first = first;
        this.layers = layers;
        this.valuesPerWindow = valuesPerWindow;
    }

    /** Values for the sample's first {@code first} windows, or null when they would take more than {@link #MAX_BYTES}. */
    static SampleWindowValues forPass(int first, int layers, int tokens, int neurons) {
        long bytes = (first + 1L) * layers * tokens * neurons * Float.BYTES;
        return first > 0 && bytes <= MAX_BYTES ? new SampleWindowValues(first, layers, tokens * neurons) : null;
    }

    /**
     * Called for window {@code w} of the batch whose values {@code activations} holds (per layer,
     * [(window * tokens + token) * neurons + neuron]) after {@code reservoir} was offered it: keeps
     * its values if it is now among the sample's first windows, dropping the one it pushed out.
     */
    void offered(WindowReservoir reservoir, CorpusWindow window, float[][] activations, int w) {
        if (!reservoir.amongFirst(window.index(), first)) {
            return;
        }
        float[][] buffer = spare != null ? spare : new float[layers][valuesPerWindow];
        spare = null;
        for (int l = 0; l < layers; l++) {
            System.arraycopy(activations[l], w * valuesPerWindow, buffer[l], 0, valuesPerWindow);
        }
        values.put(window.index(), buffer);
        if (values.size() > first) {
            Set<Long> firstNow = new HashSet<>();
            for (CorpusWindow c : reservoir.sample().subList(0, first)) {
                firstNow.add(c.index());
            }
            values.entrySet().removeIf(e -> {
                boolean left = !firstNow.contains(e.getKey());
                if (left) {
                    spare = e.getValue();
                }
                return left;
            });
        }
    }

    /** Window {@code index}'s values, per layer [token * neurons + neuron], or null when not kept. */
    float[][] of(long index) {
        return values.get(index);
    }
}
