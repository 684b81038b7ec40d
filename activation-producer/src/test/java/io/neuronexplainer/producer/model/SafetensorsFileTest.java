package io.neuronexplainer.producer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading safetensors tensors in each float dtype, and one-line errors for broken files. */
class SafetensorsFileTest {
    @TempDir
    Path dir;

    /** Values exact in F32, F16 and BF16 alike, so all three files must read back the same floats. */
    private static final float[] VALUES = {1f, -2f, 0.5f, 3.140625f, 0f, -0.0078125f};
    /** The same values as IEEE half bit patterns. */
    private static final int[] HALF = {0x3C00, 0xC000, 0x3800, 0x4248, 0x0000, 0xA000};

    @Test
    void f32F16AndBf16ReadAsTheSameFloats() {
        long[] shape = {2, 3};
        Path file = dir.resolve("three.safetensors");
        new SafetensorsWriter()
                .floats("a32", "F32", shape, VALUES)
                .raw("a16", "F16", shape, SafetensorsWriter.shorts(HALF))
                .floats("abf16", "BF16", shape, VALUES)
                .raw("ids", "I64", new long[] {2}, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(15496).putLong(-3).array())
                .write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals("pt", st.metadata().get("format"));
            assertArrayEquals(new long[] {2, 3}, st.tensor("a16").shape());
            assertArrayEquals(VALUES, st.floats("a32"));
            assertArrayEquals(VALUES, st.floats("a16"));
            assertArrayEquals(VALUES, st.floats("abf16"));
            assertArrayEquals(new long[] {15496, -3}, st.longs("ids"));
            ModelLoadException e = assertThrows(ModelLoadException.class, () -> st.floats("ids"));
            assertTrue(e.getMessage().contains("dtype I64"), e.getMessage());
        }
    }

    @Test
    void f16SpecialValuesConvert() {
        // Largest half, smallest subnormal, a subnormal, infinities, NaN.
        int[] bits = {0x7BFF, 0x0001, 0x0200, 0x7C00, 0xFC00, 0x7E00};
        Path file = dir.resolve("special.safetensors");
        new SafetensorsWriter().raw("x", "F16", new long[] {6}, SafetensorsWriter.shorts(bits)).write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            float[] v = st.floats("x");
            assertEquals(65504f, v[0]);
            assertEquals(0x1p-24f, v[1]);
            assertEquals(0x1p-15f, v[2]);
            assertEquals(Float.POSITIVE_INFINITY, v[3]);
            assertEquals(Float.NEGATIVE_INFINITY, v[4]);
            assertTrue(Float.isNaN(v[5]));
        }
    }

    @Test
    void bf16KeepsTheUpperHalfOfFloat32() {
        Path file = dir.resolve("bf16.safetensors");
        // 0x3F80 = 1.0, 0xC049 = -3.140625, 0x7F80 = +inf, 0x0001 = smallest BF16 subnormal.
        new SafetensorsWriter().raw("x", "BF16", new long[] {4}, SafetensorsWriter.shorts(0x3F80, 0xC049, 0x7F80, 0x0001)).write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {1f, -3.140625f, Float.POSITIVE_INFINITY, Float.intBitsToFloat(0x00010000)}, st.floats("x"));
        }
    }

    @Test
    void missingFileNamesTheFile() {
        Path file = dir.resolve("absent.safetensors");
        assertOneLine(file, "file not found", () -> SafetensorsFile.open(file));
    }

    @Test
    void truncatedDataIsReported() throws IOException {
        Path file = dir.resolve("cut.safetensors");
        new SafetensorsWriter().floats("w", "F32", new long[] {4, 4}, new float[16]).write(file);
        byte[] whole = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(whole, whole.length - 10));
        assertOneLine(file, "truncated", () -> SafetensorsFile.open(file));
    }

    @Test
    void corruptHeadersAreReported() throws IOException {
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertOneLine(tiny, "truncated", () -> SafetensorsFile.open(tiny));

        Path hugeHeader = dir.resolve("huge.safetensors");
        Files.write(hugeHeader, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertOneLine(hugeHeader, "corrupt safetensors header", () -> SafetensorsFile.open(hugeHeader));

        Path garbage = dir.resolve("garbage.safetensors");
        byte[] text = "{\"w\": {\"dtype\": \"F32\", \n\"sha".getBytes(StandardCharsets.UTF_8);
        Files.write(garbage, ByteBuffer.allocate(8 + text.length + 8).order(ByteOrder.LITTLE_ENDIAN).putLong(text.length).put(text).array());
        assertOneLine(garbage, "not valid JSON", () -> SafetensorsFile.open(garbage));

        Path wrongSize = dir.resolve("size.safetensors");
        new SafetensorsWriter().raw("w", "F32", new long[] {3, 3}, new byte[32]).write(wrongSize);
        assertOneLine(wrongSize, "needs 36", () -> SafetensorsFile.open(wrongSize));
    }

    @Test
    void unknownDtypeIsReported() {
        Path file = dir.resolve("dtype.safetensors");
        new SafetensorsWriter().raw("w", "F12", new long[] {2}, new byte[4]).write(file);
        assertOneLine(file, "unknown dtype F12", () -> SafetensorsFile.open(file));
    }

    static void assertOneLine(Path file, String problem, org.junit.jupiter.api.function.Executable action) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, action);
        String message = e.getMessage();
        assertTrue(message.contains(file.toString()), () -> "names the file: " + message);
        assertTrue(message.contains(problem), () -> "says '" + problem + "': " + message);
        assertFalse(message.contains("\n"), () -> "one line: " + message);
    }
}
