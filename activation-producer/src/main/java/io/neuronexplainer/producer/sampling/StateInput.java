package io.neuronexplainer.producer.sampling;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Reads what {@link StateOutput} wrote, through one 64 KiB buffer, keeping the CRC-32C of every
 * byte consumed so {@link #verifyChecksum()} can refuse a corrupt stream. A stream that ends
 * early throws {@link EOFException}.
 */
public final class StateInput implements AutoCloseable {
    private final InputStream in;
    private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
    private final CRC32C crc = new CRC32C();

    public StateInput(InputStream in) {
        this.in = in;
        buffer.limit(0);
    }

    /** Makes {@code bytes} (at most the buffer's size) readable, refilling from the stream. */
    private void need(int bytes) throws IOException {
        if (buffer.remaining() >= bytes) {
            return;
        }
        buffer.compact();
        while (buffer.position() < bytes) {
            int n = in.read(buffer.array(), buffer.position(), buffer.remaining());
            if (n < 0) {
                throw new EOFException("stream ends early");
            }
            buffer.position(buffer.position() + n);
        }
        buffer.flip();
    }

    private void consumed(int from, int bytes) {
        crc.update(buffer.array(), from, bytes);
    }

    public int readByte() throws IOException {
        need(1);
        int p = buffer.position();
        int v = buffer.get() & 0xFF;
        consumed(p, 1);
        return v;
    }

    public int readInt() throws IOException {
        need(4);
        int p = buffer.position();
        int v = buffer.getInt();
        consumed(p, 4);
        return v;
    }

    public long readLong() throws IOException {
        need(8);
        int p = buffer.position();
        long v = buffer.getLong();
        consumed(p, 8);
        return v;
    }

    public double readDouble() throws IOException {
        need(8);
        int p = buffer.position();
        double v = buffer.getDouble();
        consumed(p, 8);
        return v;
    }

    public void readInts(int[] into, int from, int count) throws IOException {
        while (count > 0) {
            need(4);
            int n = Math.min(count, buffer.remaining() / 4);
            buffer.asIntBuffer().get(into, from, n);
            consumed(buffer.position(), 4 * n);
            buffer.position(buffer.position() + 4 * n);
            from += n;
            count -= n;
        }
    }

    public void readLongs(long[] into, int from, int count) throws IOException {
        while (count > 0) {
            need(8);
            int n = Math.min(count, buffer.remaining() / 8);
            buffer.asLongBuffer().get(into, from, n);
            consumed(buffer.position(), 8 * n);
            buffer.position(buffer.position() + 8 * n);
            from += n;
            count -= n;
        }
    }

    public void readFloats(float[] into, int from, int count) throws IOException {
        while (count > 0) {
            need(4);
            int n = Math.min(count, buffer.remaining() / 4);
            buffer.asFloatBuffer().get(into, from, n);
            consumed(buffer.position(), 4 * n);
            buffer.position(buffer.position() + 4 * n);
            from += n;
            count -= n;
        }
    }

    public void readDoubles(double[] into, int from, int count) throws IOException {
        while (count > 0) {
            need(8);
            int n = Math.min(count, buffer.remaining() / 8);
            buffer.asDoubleBuffer().get(into, from, n);
            consumed(buffer.position(), 8 * n);
            buffer.position(buffer.position() + 8 * n);
            from += n;
            count -= n;
        }
    }

    /**
     * Reads the stored checksum and compares it with the bytes consumed; false when they differ
     * or when anything follows the checksum.
     */
    public boolean verifyChecksum() throws IOException {
        int expected = (int) crc.getValue();
        need(4);
        int stored = buffer.getInt();
        if (buffer.hasRemaining() || in.read() >= 0) {
            return false;
        }
        return stored == expected;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
