package io.neuronexplainer.producer.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a safetensors file: its header up front, then tensors one at a time, each memory-mapped
 * on its own, so files over 2 GiB load (DJL's NDList.decode reads the whole file into one array
 * and cannot). F32, F16, BF16 and F64 tensors are converted to float in Java because DJL's
 * PyTorch engine crashes on BF16.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The safetensors format's own limit on the JSON header. */
    private static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    /** A mapping is at most 2 GiB; large tensors are read through several 1 GiB mappings. */
    private static final long CHUNK_BYTES = 1L << 30;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final float[] HALF_TO_FLOAT = halfTable();

    /** Element types of the safetensors format, with their sizes in bytes. */
    public enum Dtype {
        F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1),
        U16(2), U32(4), U64(8), F8_E4M3(1), F8_E5M2(1);

        public final int bytes;

        Dtype(int bytes) {
            this.bytes = bytes;
        }
    }

    /** One tensor's header entry; {@code begin}/{@code end} are byte offsets in the data section. */
    public record Tensor(String name, Dtype dtype, long[] shape, long begin, long end) {
        public long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        public String shapeText() {
            return Arrays.toString(shape);
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart,
                            Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens {@code file} and checks its header against the file's size. */
    public static SafetensorsFile open(Path file) {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file, "file not found");
        } catch (IOException e) {
            throw new ModelLoadException(file, "cannot read: " + e.getMessage(), e);
        }
        try {
            long size = channel.size();
            if (size < 8) {
                throw new ModelLoadException(file, "truncated safetensors file: " + size + " bytes, too short for a header");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0);
            long headerLength = lengthBytes.getLong(0);
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw new ModelLoadException(file, "corrupt safetensors header: declares " + headerLength
                        + " header bytes in a file of " + size + " bytes");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(channel, headerBytes, 8);
            long dataStart = 8 + headerLength;
            JsonNode header = parseHeader(file, new String(headerBytes.array(), StandardCharsets.UTF_8));
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> entry : header.properties()) {
                if (entry.getKey().equals("__metadata__")) {
                    entry.getValue().properties().forEach(m -> metadata.put(m.getKey(), m.getValue().asText()));
                } else {
                    Tensor tensor = parseTensor(file, entry.getKey(), entry.getValue(), size - dataStart);
                    tensors.put(tensor.name(), tensor);
                }
            }
            return new SafetensorsFile(file, channel, dataStart,
                    Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            closeQuietly(channel);
            throw new ModelLoadException(file, "cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** The header's {@code __metadata__} strings. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Every tensor's header entry, in the file's order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Tensor tensor(String name) {
        Tensor tensor = tensors.get(name);
        if (tensor == null) {
            throw new ModelLoadException(path, "no tensor named " + name);
        }
        return tensor;
    }

    /** A floating-point tensor's values as float, row-major. */
    public float[] floats(String name) {
        Tensor t = tensor(name);
        if (t.dtype() != Dtype.F32 && t.dtype() != Dtype.F16 && t.dtype() != Dtype.BF16 && t.dtype() != Dtype.F64) {
            throw new ModelLoadException(path, "tensor " + name + " has dtype " + t.dtype() + ", expected F32, F16, BF16 or F64");
        }
        float[] out = new float[checkedLength(t)];
        read(t, (buffer, offset, count) -> {
            switch (t.dtype()) {
                case F32 -> buffer.asFloatBuffer().get(out, offset, count);
                case F64 -> {
                    for (int i = 0; i < count; i++) {
                        out[offset + i] = (float) buffer.getDouble(i * 8);
                    }
                }
                case F16 -> {
                    for (int i = 0; i < count; i++) {
                        out[offset + i] = HALF_TO_FLOAT[buffer.getShort(i * 2) & 0xffff];
                    }
                }
                default -> { // BF16: the upper half of a float32
                    for (int i = 0; i < count; i++) {
                        out[offset + i] = Float.intBitsToFloat((buffer.getShort(i * 2) & 0xffff) << 16);
                    }
                }
            }
        });
        return out;
    }

    /** An integer tensor's values (I64, I32, I16, I8, U8) as long, row-major. */
    public long[] longs(String name) {
        Tensor t = tensor(name);
        int width = switch (t.dtype()) {
            case I64, I32, I16, I8, U8 -> t.dtype().bytes;
            default -> throw new ModelLoadException(path, "tensor " + name + " has dtype " + t.dtype() + ", expected an integer type");
        };
        long[] out = new long[checkedLength(t)];
        read(t, (buffer, offset, count) -> {
            for (int i = 0; i < count; i++) {
                out[offset + i] = switch (width) {
                    case 8 -> buffer.getLong(i * 8);
                    case 4 -> buffer.getInt(i * 4);
                    case 2 -> buffer.getShort(i * 2);
                    default -> t.dtype() == Dtype.U8 ? buffer.get(i) & 0xff : buffer.get(i);
                };
            }
        });
        return out;
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    /** Receives a tensor's bytes a mapping at a time: {@code count} elements for {@code out[offset...]}. */
    private interface ChunkReader {
        void accept(ByteBuffer littleEndian, int offset, int count);
    }

    private void read(Tensor t, ChunkReader reader) {
        int size = t.dtype().bytes;
        long total = t.end() - t.begin();
        long step = CHUNK_BYTES / size * size;
        try {
            for (long done = 0; done < total; done += step) {
                long length = Math.min(step, total - done);
                MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin() + done, length);
                reader.accept(mapped.order(ByteOrder.LITTLE_ENDIAN), (int) (done / size), (int) (length / size));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException(path + ": cannot read tensor " + t.name() + ": " + e.getMessage(), e));
        }
    }

    private int checkedLength(Tensor t) {
        long n = t.elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw new ModelLoadException(path, "tensor " + t.name() + " has " + n + " elements, more than one Java array holds");
        }
        return (int) n;
    }

    private static JsonNode parseHeader(Path file, String text) {
        JsonNode header;
        try {
            header = JSON.readTree(text.trim());
        } catch (JsonProcessingException e) {
            throw new ModelLoadException(file, "corrupt safetensors header: not valid JSON ("
                    + e.getOriginalMessage() + ")");
        }
        if (header == null || !header.isObject()) {
            throw new ModelLoadException(file, "corrupt safetensors header: not a JSON object");
        }
        return header;
    }

    private static Tensor parseTensor(Path file, String name, JsonNode node, long dataLength) {
        JsonNode dtype = node.get("dtype");
        JsonNode shape = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtype == null || !dtype.isTextual() || shape == null || !shape.isArray()
                || offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new ModelLoadException(file, "corrupt safetensors header: tensor " + name
                    + " lacks dtype, shape or data_offsets");
        }
        Dtype type;
        try {
            type = Dtype.valueOf(dtype.asText());
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file, "tensor " + name + " has unknown dtype " + dtype.asText());
        }
        long[] dims = new long[shape.size()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.get(i).asLong(-1);
            if (dims[i] < 0 || !shape.get(i).canConvertToLong()) {
                throw new ModelLoadException(file, "corrupt safetensors header: tensor " + name + " has shape " + shape);
            }
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        Tensor tensor = new Tensor(name, type, dims, begin, end);
        if (begin < 0 || end < begin || end - begin != tensor.elements() * type.bytes) {
            throw new ModelLoadException(file, "corrupt safetensors header: tensor " + name + " spans bytes ["
                    + begin + ", " + end + ") but " + type + " " + tensor.shapeText() + " needs "
                    + tensor.elements() * type.bytes);
        }
        if (end > dataLength) {
            throw new ModelLoadException(file, "truncated safetensors file: tensor " + name + " ends at data byte "
                    + end + " but the file holds " + dataLength + " data bytes");
        }
        return tensor;
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Read-only: nothing is lost.
        }
    }

    /** IEEE half to float for all 65,536 bit patterns (Float.float16ToFloat needs Java 20). */
    private static float[] halfTable() {
        float[] table = new float[1 << 16];
        for (int h = 0; h < table.length; h++) {
            int sign = (h & 0x8000) << 16;
            int exponent = (h >>> 10) & 0x1f;
            int mantissa = h & 0x3ff;
            float value;
            if (exponent == 0x1f) {
                value = Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
            } else if (exponent == 0) {
                value = mantissa * 0x1p-24f;
                value = sign != 0 ? -value : value;
            } else {
                value = Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
            }
            table[h] = value;
        }
        return table;
    }
}
