package io.neuronexplainer.schemas;

import java.io.IOException;
import org.apache.avro.Schema;
import org.apache.avro.generic.PrimitivesArrays;
import org.apache.avro.io.Decoder;

/**
 * Reads an Avro array of floats into Avro's own unboxed float array, block by block. Avro's readers
 * box each element through a generic call; the hand-written readers of simulations and activations
 * share this instead.
 */
public final class UnboxedFloats {
    private UnboxedFloats() {}

    /** The array at the decoder's position, under {@code arraySchema} (an array of floats). */
    public static PrimitivesArrays.FloatArray read(Decoder in, Schema arraySchema) throws IOException {
        long n = in.readArrayStart();
        PrimitivesArrays.FloatArray out = new PrimitivesArrays.FloatArray((int) n, arraySchema);
        for (int at = 0; n > 0; n = in.arrayNext()) {
            for (long i = 0; i < n; i++) {
                out.add(at++, in.readFloat());
            }
        }
        return out;
    }
}
