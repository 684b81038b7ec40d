package io.neuronexplainer.producer.sampling;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The binary stream a pass state is written to: big-endian primitives and whole primitive
 * arrays, through one 64 KiB buffer, with a running CRC-32C of every byte. Hand-written rather
 * than a DataOutputStream: that writes a float as four single-byte calls, and a gpt2-small
 * state is ~50 million floats; bulk copies through a ByteBuffer view are ~10x faster and never
 * hold more than the buffer.
 */
public final class StateOutput implements AutoCloseable {
    private final OutputStream out;
    private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
    private final CRC32C crc = new CRC32C();
    private long written;

    public StateOutput(OutputStream out) {
        this.out = out;
    }

    private void room(int bytes) throws IOException {
        if (buffer.remaining() < bytes) {
            drain();
        }
    }

    private void drain() throws IOException {
        crc.update(buffer.array(), 0, buffer.position());
        out.write(buffer.array(), 0, buffer.position());
        written += buffer.position();
        buffer.clear();
    }

    public void writeByte(int v) throws IOException {
        room(1);
        buffer.put((byte) v);
    }

    public void writeInt(int v) throws IOException {
        room(4);
        buffer.putInt(v);
    }

    public void writeLong(long v) throws IOException {
        room(8);
        buffer.putLong(v);
    }

    public void writeDouble(double v) throws IOException {
        room(8);
        buffer.putDouble(v);
    }

    public void writeInts(int[] values, int from, int count) throws IOException {
        while (count > 0) {
            room(4);
            int n = Math.min(count, buffer.remaining() / 4);
            buffer.asIntBuffer().put(values, from, n);
            buffer.position(buffer.position() + 4 * n);
            from += n;
            count -= n;
        }
    }

    public void writeLongs(long[] values, int from, int count) throws IOException {
        while (count > 0) {
            room(8);
            int n = Math.min(count, buffer.remaining() / 8);
            buffer.asLongBuffer().put(values, from, n);
            buffer.position(buffer.position() + 8 * n);
            from += n;
            count -= n;
        }
    }

    public void writeFloats(float[] values, int from, int count) throws IOException {
        while (count > 0) {
            room(4);
            int n = Math.min(count, buffer.remaining() / 4);
            buffer.asFloatBuffer().put(values, from, n);
            buffer.position(buffer.position() + 4 * n);
            from += n;
            count -= n;
        }
    }

    public void writeDoubles(double[] values, int from, int count) throws IOException {
        while (count > 0) {
            room(8);
            int n = Math.min(count, buffer.remaining() / 8);
            buffer.asDoubleBuffer().put(values, from, n);
            buffer.position(buffer.position() + 8 * n);
            from += n;
            count -= n;
        }
    }

    /** Writes the CRC-32C of everything written so far (itself not included) and flushes. */
    public void writeChecksum() throws IOException {
        drain();
        int value = (int) crc.getValue();
        buffer.putInt(value);
        out.write(buffer.array(), 0, 4);
        written += 4;
        buffer.clear();
        out.flush();
    }

    /** Bytes handed to the stream so far, buffered ones included. */
    public long written() {
        return written + buffer.position();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
