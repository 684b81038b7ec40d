package io.neuronexplainer.schemas;

import java.util.AbstractList;
import java.util.RandomAccess;

/**
 * An unmodifiable {@code random_window_maxima} array read from arrays shared by a run's records: the
 * sample's window indexes, and one neuron's maxima, side by side in a layer's array.
 * {@link AvroSerializer} writes it without building a {@link WindowMax} per entry: 50 records with a
 * boxed long and float each, for each of tens of thousands of neurons, were a sixth of the activation
 * producer's record building.
 */
public final class WindowMaxima extends AbstractList<WindowMax> implements RandomAccess {
    private final long[] windowIndexes;
    private final float[] maxima;
    private final int offset;

    /**
     * Entry {@code i} is window {@code windowIndexes[i]} with max {@code maxima[offset + i]}.
     * Neither array is copied: they must not change afterwards.
     */
    public WindowMaxima(long[] windowIndexes, float[] maxima, int offset) {
        if (offset < 0 || offset + (long) windowIndexes.length > maxima.length) {
            throw new IllegalArgumentException(windowIndexes.length + " windows at offset " + offset + " run past "
                    + maxima.length + " maxima");
        }
        this.windowIndexes = windowIndexes;
        this.maxima = maxima;
        this.offset = offset;
    }

    public long windowIndex(int i) {
        return windowIndexes[checked(i)];
    }

    public float maxActivation(int i) {
        return maxima[offset + checked(i)];
    }

    private int checked(int i) {
        if (i < 0 || i >= windowIndexes.length) {
            throw new IndexOutOfBoundsException("entry " + i + " of " + windowIndexes.length);
        }
        return i;
    }

    @Override
    public WindowMax get(int i) {
        return new WindowMax(windowIndex(i), maxActivation(i));
    }

    @Override
    public int size() {
        return windowIndexes.length;
    }
}
