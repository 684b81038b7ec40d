package io.neuronexplainer.producer.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes small safetensors files for tests, with tensors in a chosen dtype. */
final class SafetensorsWriter {
    private final Map<String, Object[]> tensors = new LinkedHashMap<>();

    /** Adds raw little-endian bytes of {@code dtype}. */
    SafetensorsWriter raw(String name, String dtype, long[] shape, byte[] bytes) {
        tensors.put(name, new Object[] {dtype, shape, bytes});
        return this;
    }

    /** Adds float values as F32, or as BF16 by keeping the upper 16 bits (exact for BF16-representable values). */
    SafetensorsWriter floats(String name, String dtype, long[] shape, float[] values) {
        ByteBuffer buffer;
        if (dtype.equals("F32")) {
            buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                buffer.putFloat(v);
            }
        } else if (dtype.equals("BF16")) {
            buffer = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                buffer.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
            }
        } else {
            throw new IllegalArgumentException(dtype);
        }
        return raw(name, dtype, shape, buffer.array());
    }

    static byte[] shorts(int... values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            buffer.putShort((short) v);
        }
        return buffer.array();
    }

    void write(Path file) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Map.Entry<String, Object[]> e : tensors.entrySet()) {
            byte[] bytes = (byte[]) e.getValue()[2];
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", (String) e.getValue()[0]);
            var shape = entry.putArray("shape");
            for (long d : (long[]) e.getValue()[1]) {
                shape.add(d);
            }
            entry.withArray("data_offsets").add(data.size()).add(data.size() + bytes.length);
            data.writeBytes(bytes);
        }
        try {
            byte[] headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
            ByteBuffer out = ByteBuffer.allocate(8 + headerBytes.length + data.size()).order(ByteOrder.LITTLE_ENDIAN);
            out.putLong(headerBytes.length).put(headerBytes).put(data.toByteArray());
            Files.write(file, out.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
