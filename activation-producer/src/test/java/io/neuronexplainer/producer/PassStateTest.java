package io.neuronexplainer.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pass state file: written atomically, read back whole, and refused with one line when damaged. */
class PassStateTest {
    @TempDir
    Path dir;
    Path file;
    PassState state;

    @BeforeEach
    void write() throws IOException {
        List<PassState> snapshots = new ArrayList<>();
        SyntheticPass.run(SyntheticPass.newPass(), ShardRange.all(), snapshots::add, Duration.ZERO);
        state = snapshots.get(snapshots.size() / 2);
        file = dir.resolve("shard.state");
        assertEquals(state.fileBytes(), state.write(file));
        assertEquals(state.fileBytes(), Files.size(file));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void readBackItIsTheSameState() throws IOException {
        PassState back = PassState.read(file);
        assertEquals(state.range(), back.range());
        assertEquals(state.nextWindow(), back.nextWindow());
        assertEquals(state.result(), back.result());
        assertEquals(state.settings(), back.settings());
        assertEquals(state.describe(), back.describe());
        assertEquals(state.reservoir().sample().stream().map(w -> w.index()).toList(),
                back.reservoir().sample().stream().map(w -> w.index()).toList());
        assertEquals(state.tokens().size(), back.tokens().size());
        // Written again, it is the same bytes.
        Path again = dir.resolve("again.state");
        back.write(again);
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(file), Files.readAllBytes(again)));
        assertFalse(PassState.readDone(file));
    }

    private static String refusal(Path file) {
        String message = assertThrows(IOException.class, () -> PassState.read(file)).getMessage();
        assertFalse(message.contains("\n"), "one line: " + message);
        assertTrue(message.startsWith("pass state " + file + ": "), message);
        return message.substring(("pass state " + file + ": ").length());
    }

    @Test
    void aTruncatedFileIsRefused() throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        assertEquals("truncated (" + (bytes.length - 100) + " bytes, its header says " + bytes.length + ")", refusal(file));
        Files.write(file, java.util.Arrays.copyOf(bytes, 30));
        assertEquals("truncated (30 bytes, its header says " + bytes.length + ")", refusal(file));
    }

    @Test
    void aCorruptByteIsRefused() throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Files.write(file, bytes);
        assertEquals("corrupt (checksum mismatch)", refusal(file));
    }

    @Test
    void otherFilesAreRefused() throws IOException {
        Files.writeString(file, "hello, this is not a pass state at all");
        assertEquals("not a pass state file (bad magic)", refusal(file));
        Files.write(file, new byte[0]);
        assertEquals("not a pass state file (0 bytes)", refusal(file));
        assertEquals("no such file", refusal(dir.resolve("missing.state")));
    }

    @Test
    void bytesAppendedAreRefused() throws IOException {
        Files.write(file, new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
        assertTrue(refusal(file).startsWith("corrupt ("), "longer than its header says");
    }

    @Test
    void theStoreRefusesACorruptLatestSnapshotWithTheSameLine() throws IOException {
        PassSnapshotStore store = new PassSnapshotStore(dir);
        store.save("run-c", state);
        Path saved = store.file("run-c", 0, 1);
        byte[] bytes = Files.readAllBytes(saved);
        bytes[bytes.length - 2] ^= 1;
        Files.write(saved, bytes);
        assertEquals("pass state " + saved + ": corrupt (checksum mismatch)",
                assertThrows(IOException.class, () -> store.latest("run-c", 0, 1)).getMessage());
    }
}
