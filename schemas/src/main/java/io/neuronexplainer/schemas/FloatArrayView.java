package io.neuronexplainer.schemas;

import java.util.AbstractList;
import java.util.RandomAccess;

/**
 * An unmodifiable Avro array of floats over a {@code float[]}, written unboxed by {@link AvroSerializer}:
 * a record builder hands over values it already holds instead of copying them, one boxed add at a
 * time, into Avro's own float array (a third of the activation producer's record building).
 */
public final class FloatArrayView extends AbstractList<Float> implements RandomAccess {
    private final float[] values;

    /** @param values not copied: must not change afterwards */
    public FloatArrayView(float[] values) {
        this.values = values;
    }

    /** The value at {@code index}, unboxed. */
    public float getFloat(int index) {
        return values[index];
    }

    @Override
    public Float get(int index) {
        return values[index];
    }

    @Override
    public int size() {
        return values.length;
    }
}
