package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.neuronexplainer.schemas.UnboxedFloats;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.generic.PrimitivesArrays;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/** The unboxed float reader, whose Avro binary path copies blocks of raw bytes, against Avro's own float reads. */
class UnboxedFloatsTest {
    private static final Schema FLOATS = Schema.createArray(Schema.create(Schema.Type.FLOAT));

    @Test
    void readsEveryFloatBitForBitWhateverTheBlocksAndTheDecoder() throws IOException {
        Random random = new Random(7);
        // Past one 1,024-float chunk, and in many small blocks (the blocking encoder's byte-sized blocks).
        for (int n : new int[] {0, 1, 63, 64, 1023, 1024, 1025, 2500}) {
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = switch (i % 7) {
                    case 0 -> Float.intBitsToFloat(0x7fc0_1234); // a NaN with a payload: raw bits kept
                    case 1 -> -0.0f;
                    case 2 -> Float.NEGATIVE_INFINITY;
                    case 3 -> Float.MIN_VALUE;
                    default -> (float) random.nextGaussian() * 100;
                };
            }
            for (byte[] bytes : new byte[][] {plain(values), blocked(values, 64), blocked(values, 4096)}) {
                assertSameBits(values, UnboxedFloats.read(DecoderFactory.get().binaryDecoder(bytes, null), FLOATS), n);
                assertSameBits(values, UnboxedFloats.read(
                        DecoderFactory.get().directBinaryDecoder(new ByteArrayInputStream(bytes), null), FLOATS), n);
                // Another decoder than Avro's binary one (resolving, as for another writer's schema): read one float at a time.
                Decoder resolving = DecoderFactory.get().resolvingDecoder(FLOATS, FLOATS,
                        DecoderFactory.get().binaryDecoder(bytes, null));
                assertSameBits(values, UnboxedFloats.read(resolving, FLOATS), n);
            }
        }
    }

    @Test
    void aTruncatedOrDamagedArrayIsAnErrorNotAHugeAllocation() throws IOException {
        byte[] whole = plain(new float[] {1f, 2f, 3f});
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length - 3);
        assertThrows(EOFException.class, () -> UnboxedFloats.read(DecoderFactory.get().binaryDecoder(truncated, null), FLOATS));
        // A count of a billion floats followed by four bytes: refused at the end of the data.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder e = EncoderFactory.get().binaryEncoder(out, null);
        e.writeLong(1_000_000_000L);
        e.writeFloat(1f);
        e.flush();
        assertThrows(EOFException.class, () -> UnboxedFloats.read(DecoderFactory.get().binaryDecoder(out.toByteArray(), null), FLOATS));
    }

    private static void assertSameBits(float[] expected, PrimitivesArrays.FloatArray actual, int n) {
        assertEquals(expected.length, actual.size(), "floats read of " + n);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual.getFloat(i)),
                    "float " + i + " of " + n);
        }
    }

    private static byte[] plain(float[] values) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(values, EncoderFactory.get().binaryEncoder(out, null));
        return out.toByteArray();
    }

    /** As the producer's shared arrays are written: blocks of about {@code blockBytes}, each with its byte size. */
    private static byte[] blocked(float[] values, int blockBytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(values, new EncoderFactory().configureBlockSize(blockBytes).blockingBinaryEncoder(out, null));
        return out.toByteArray();
    }

    private static void write(float[] values, Encoder e) throws IOException {
        e.writeArrayStart();
        e.setItemCount(values.length);
        for (float v : values) {
            e.startItem();
            e.writeFloat(v);
        }
        e.writeArrayEnd();
        e.flush();
    }
}
