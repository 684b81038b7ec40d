package io.neuronexplainer.producer;

import io.neuronexplainer.producer.sampling.LayerTopK;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.producer.sampling.StateInput;
import io.neuronexplainer.producer.sampling.StateOutput;
import io.neuronexplainer.producer.sampling.TopWindowTokens;
import io.neuronexplainer.producer.sampling.WindowReservoir;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Everything a corpus pass (or one shard of it) needs to continue or to emit its records:
 * settings, layers, the shard's window range and the next window to read, each layer's top-K
 * table, the random sample, the kept windows' token ids and the counts. Written to a file
 * (snapshots, finished shards) and merged across the shards of one run.
 *
 * <p>File format (version 2), big-endian: magic {@code NXPS}, version, the file's total length,
 * a done flag, settings, batch, layers, neurons, range, next window, counts; then per layer
 * its table ({@link LayerTopK#writeTo}), the random sample, the kept windows' ids; last a
 * CRC-32C of all that. Hand-written rather than Avro: a gpt2-small state is ~190 MB, ~50 million
 * floats, which Avro's Java encoder writes one value at a time (or as one {@code bytes} field
 * built in memory); this streams whole arrays through a 64 KiB buffer at disk speed.
 */
public final class PassState {
    private static final int MAGIC = 0x4E585053; // "NXPS"
    // Version 2: the settings hold the drift sample size, and the random sample is seeded by the corpus.
    private static final int VERSION = 2;
    private static final int HEADER_BYTES = 4 + 4 + 8 + 1 + (6 * 4 + 8) + 4 + 4 + 4 + (4 + 4 + 8 + 8) + 8
            + (4 * 8 + 8);

    private final SamplingSettings settings;
    private final int batchSize;
    private final int[] layers;
    private final int neuronsPerLayer;
    private final ShardRange range;
    private final long nextWindow;
    private final boolean done;
    private final List<LayerTopK> tops;
    private final WindowReservoir reservoir;
    private final TopWindowTokens tokens;
    private final long documents;
    private final long windows;
    private final long tokensSkipped;
    private final double seconds;

    /**
     * The pieces are taken as they are, not copied: a state owns them ({@link CorpusPass} hands
     * over copies).
     */
    public PassState(SamplingSettings settings, int batchSize, int[] layers, int neuronsPerLayer, ShardRange range,
                     long nextWindow, boolean done, List<LayerTopK> tops, WindowReservoir reservoir,
                     TopWindowTokens tokens, long documents, long windows, long tokensSkipped, double seconds) {
        if (tops.size() != layers.length) {
            throw new IllegalArgumentException(tops.size() + " top-K tables for " + layers.length + " layers");
        }
        this.settings = settings;
        this.batchSize = batchSize;
        this.layers = layers.clone();
        this.neuronsPerLayer = neuronsPerLayer;
        this.range = range;
        this.nextWindow = nextWindow;
        this.done = done;
        this.tops = List.copyOf(tops);
        this.reservoir = reservoir;
        this.tokens = tokens;
        this.documents = documents;
        this.windows = windows;
        this.tokensSkipped = tokensSkipped;
        this.seconds = seconds;
    }

    public SamplingSettings settings() {
        return settings;
    }

    public int batchSize() {
        return batchSize;
    }

    public int[] layers() {
        return layers.clone();
    }

    public int neuronsPerLayer() {
        return neuronsPerLayer;
    }

    public ShardRange range() {
        return range;
    }

    /** The index of the next window to read: where a resumed pass starts. */
    public long nextWindow() {
        return nextWindow;
    }

    /** Whether the pass read its whole range (a finished shard, ready to merge). */
    public boolean done() {
        return done;
    }

    public List<LayerTopK> tops() {
        return tops;
    }

    public WindowReservoir reservoir() {
        return reservoir;
    }

    public TopWindowTokens tokens() {
        return tokens;
    }

    public long documents() {
        return documents;
    }

    public long windows() {
        return windows;
    }

    public long tokensSkipped() {
        return tokensSkipped;
    }

    /** Pass time so far (the sum of the shards' times for a merged state). */
    public double seconds() {
        return seconds;
    }

    /** The counts as a pass result. */
    public PassResult result() {
        return new PassResult(documents, windows, windows * settings.windowTokens(), tokensSkipped, seconds);
    }

    /** Bytes {@link #write} writes. */
    public long fileBytes() {
        int w = settings.windowTokens();
        long bytes = HEADER_BYTES + 4L * layers.length;
        for (LayerTopK top : tops) {
            bytes += LayerTopK.serializedBytes(top.neurons(), top.k(), top.tokensPerWindow());
        }
        return bytes + reservoir.serializedBytes(w) + tokens.serializedBytes(w) + 4;
    }

    /**
     * Writes the state to {@code file} atomically: to a temporary file in the same folder,
     * flushed to disk, then renamed over {@code file}, so a reader (or a process killed while
     * writing) only ever sees a whole state. Returns the bytes written.
     */
    public long write(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path temp = Files.createTempFile(dir, file.getFileName() + ".", ".tmp");
        long expected = fileBytes();
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                OutputStream stream = Channels.newOutputStream(channel);
                StateOutput out = new StateOutput(stream);
                writeTo(out, expected);
                out.writeChecksum();
                if (out.written() != expected) {
                    throw new IllegalStateException("pass state wrote " + out.written() + " bytes, not the "
                            + expected + " its header says");
                }
                channel.force(true);
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("pass state " + file + ": the file system cannot rename atomically");
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        return expected;
    }

    private void writeTo(StateOutput out, long totalBytes) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeLong(totalBytes);
        out.writeByte(done ? 1 : 0);
        out.writeInt(settings.windowTokens());
        out.writeInt(settings.topK());
        out.writeInt(settings.explainTop());
        out.writeInt(settings.scoreTop());
        out.writeInt(settings.random());
        out.writeInt(settings.driftWindows());
        out.writeLong(settings.seed());
        out.writeInt(batchSize);
        out.writeInt(neuronsPerLayer);
        out.writeInt(layers.length);
        out.writeInts(layers, 0, layers.length);
        out.writeInt(range.shard());
        out.writeInt(range.shards());
        out.writeLong(range.from());
        out.writeLong(range.to());
        out.writeLong(nextWindow);
        out.writeLong(documents);
        out.writeLong(windows);
        out.writeLong(tokensSkipped);
        out.writeLong(0); // reserved
        out.writeDouble(seconds);
        for (LayerTopK top : tops) {
            top.writeTo(out);
        }
        reservoir.writeTo(out, settings.windowTokens());
        tokens.writeTo(out, settings.windowTokens());
    }

    /**
     * Reads a state {@link #write} wrote. A file that is not one, of another format version,
     * truncated or corrupt is refused with an {@link IOException} of one line naming the file.
     */
    public static PassState read(Path file) throws IOException {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new IOException("pass state " + file + ": no such file");
        }
        try (InputStream stream = Files.newInputStream(file); StateInput in = new StateInput(stream)) {
            Header h = Header.read(in, file, size);
            // The checksum first, over the whole file: then corruption is always named as such,
            // and no damaged count can make the parser allocate or misread.
            if (!checksumMatches(file, size)) {
                throw new IOException("pass state " + file + ": corrupt (checksum mismatch)");
            }
            long fixed = HEADER_BYTES + 4L * h.layers.length + 4
                    + h.layers.length * LayerTopK.serializedBytes(h.neurons, h.settings.topK(), h.settings.windowTokens());
            if (fixed > size) {
                throw new IOException("pass state " + file + ": corrupt (" + h.layers.length + " layers of " + h.neurons
                        + " neurons need more than its " + size + " bytes)");
            }
            List<LayerTopK> tops = new ArrayList<>(h.layers.length);
            for (int ignored : h.layers) {
                tops.add(LayerTopK.readFrom(in, h.neurons, h.settings.topK(), h.settings.windowTokens()));
            }
            WindowReservoir reservoir = WindowReservoir.readFrom(in, h.settings.windowTokens());
            TopWindowTokens tokens = TopWindowTokens.readFrom(in, h.settings.windowTokens(),
                    (long) h.layers.length * h.neurons * h.settings.topK());
            if (!in.verifyChecksum()) {
                throw new IOException("pass state " + file + ": changed while being read");
            }
            return new PassState(h.settings, h.batch, h.layers, h.neurons, h.range, h.nextWindow, h.done, tops,
                    reservoir, tokens, h.documents, h.windows, h.tokensSkipped, h.seconds);
        } catch (EOFException e) {
            throw new IOException("pass state " + file + ": truncated (" + size + " bytes)");
        } catch (IllegalArgumentException e) {
            throw new IOException("pass state " + file + ": corrupt (" + e.getMessage() + ")");
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("pass state ")) {
                throw e;
            }
            throw new IOException("pass state " + file + ": corrupt or unreadable (" + e.getMessage() + ")");
        }
    }

    private static boolean checksumMatches(Path file, long size) throws IOException {
        CRC32C crc = new CRC32C();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            long left = size - 4;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new EOFException();
                }
                crc.update(buffer, 0, n);
                left -= n;
            }
            byte[] stored = in.readNBytes(4);
            return stored.length == 4 && ByteBuffer.wrap(stored).getInt() == (int) crc.getValue();
        }
    }

    /** Whether the state in {@code file} is a finished one, reading its header only (not checksummed). */
    public static boolean readDone(Path file) throws IOException {
        long size = Files.size(file);
        try (InputStream stream = Files.newInputStream(file); StateInput in = new StateInput(stream)) {
            return Header.read(in, file, size).done;
        } catch (EOFException e) {
            throw new IOException("pass state " + file + ": truncated (" + size + " bytes)");
        }
    }

    /** The fixed part of the file, checked as it is read. */
    private record Header(SamplingSettings settings, int batch, int[] layers, int neurons, ShardRange range,
                          long nextWindow, boolean done, long documents, long windows, long tokensSkipped,
                          double seconds) {
        static Header read(StateInput in, Path file, long size) throws IOException {
            String where = "pass state " + file + ": ";
            if (size < 8) {
                throw new IOException(where + "not a pass state file (" + size + " bytes)");
            }
            if (in.readInt() != MAGIC) {
                throw new IOException(where + "not a pass state file (bad magic)");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new IOException(where + "format version " + version + ", this producer reads " + VERSION);
            }
            long total = in.readLong();
            if (total != size) {
                throw new IOException(where + (size < total ? "truncated" : "corrupt") + " (" + size
                        + " bytes, its header says " + total + ")");
            }
            boolean done = in.readByte() == 1;
            SamplingSettings settings;
            try {
                settings = new SamplingSettings(in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(),
                        in.readInt(), in.readLong());
            } catch (IllegalArgumentException e) {
                throw new IOException(where + "corrupt settings (" + e.getMessage() + ")");
            }
            int batch = in.readInt();
            int neurons = in.readInt();
            int layerCount = in.readInt();
            if (batch <= 0 || neurons <= 0 || layerCount <= 0 || layerCount > 10_000) {
                throw new IOException(where + "corrupt header (batch " + batch + ", " + neurons + " neurons, "
                        + layerCount + " layers)");
            }
            int[] layers = new int[layerCount];
            in.readInts(layers, 0, layerCount);
            ShardRange range;
            try {
                range = new ShardRange(in.readInt(), in.readInt(), in.readLong(), in.readLong());
            } catch (IllegalArgumentException e) {
                throw new IOException(where + "corrupt range (" + e.getMessage() + ")");
            }
            long nextWindow = in.readLong();
            long documents = in.readLong();
            long windows = in.readLong();
            long skipped = in.readLong();
            in.readLong(); // reserved
            double seconds = in.readDouble();
            return new Header(settings, batch, layers, neurons, range, nextWindow, done, documents, windows, skipped,
                    seconds);
        }
    }

    /** A deep copy (token id arrays shared: they never change). */
    public PassState copy() {
        List<LayerTopK> copies = new ArrayList<>(tops.size());
        for (LayerTopK top : tops) {
            copies.add(top.copy());
        }
        return new PassState(settings, batchSize, layers, neuronsPerLayer, range, nextWindow, done, copies,
                reservoir.copy(), tokens.copy(), documents, windows, tokensSkipped, seconds);
    }

    /**
     * Merges the finished shards of one run into the state of a whole pass: exactly the windows
     * one pass over the whole corpus keeps (see {@link LayerTopK#merge}, {@link WindowReservoir#merge}).
     * The shards must share settings, batch, layers and neurons, and their ranges must tile the
     * corpus: shards 0 to n-1 of n, each starting where the previous ends. Order-independent:
     * the shards are folded in shard order whatever the list's order. The inputs are not changed.
     */
    public static PassState merge(List<PassState> shards) {
        List<PassState> sorted = checkTiling(shards);
        PassState merged = sorted.get(0).copy();
        for (int i = 1; i < sorted.size(); i++) {
            merged = merged.mergeWith(sorted.get(i));
        }
        return merged.asWhole();
    }

    /**
     * Sorts the shards by shard number and checks they are the finished, compatible, gap-free
     * shards of one run.
     */
    static List<PassState> checkTiling(List<PassState> shards) {
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("no shard states to merge");
        }
        List<PassState> sorted = new ArrayList<>(shards);
        sorted.sort(Comparator.comparingInt(s -> s.range.shard()));
        PassState first = sorted.get(0);
        int n = first.range.shards();
        if (sorted.size() != n) {
            throw new IllegalArgumentException(sorted.size() + " shard states to merge, the run has " + n + " shards");
        }
        long expectedFrom = 0;
        for (int i = 0; i < n; i++) {
            checkShard(first, sorted.get(i), i, n, expectedFrom);
            expectedFrom = sorted.get(i).range.to();
        }
        return sorted;
    }

    /** Checks that {@code s} is finished shard {@code i} of {@code n}, like {@code first}, starting at {@code from}. */
    static void checkShard(PassState first, PassState s, int i, int n, long from) {
        first.checkCompatible(s);
        ShardRange r = s.range;
        if (r.shards() != n || r.shard() != i) {
            throw new IllegalArgumentException("shard states to merge: expected shard " + i + " of " + n + ", found " + r);
        }
        if (r.from() != from) {
            throw new IllegalArgumentException("shard states to merge do not tile: " + r + " does not start at window "
                    + from);
        }
        if (!s.done) {
            throw new IllegalArgumentException("shard state " + r + " is not finished (next window " + s.nextWindow + ")");
        }
    }

    /** Refuses a state of another pass shape (settings, batch, layers, neurons) with one line. */
    void checkCompatible(PassState other) {
        if (!settings.equals(other.settings) || batchSize != other.batchSize || !Arrays.equals(layers, other.layers)
                || neuronsPerLayer != other.neuronsPerLayer) {
            throw new IllegalArgumentException("pass states differ: " + describe() + " vs " + other.describe());
        }
    }

    String describe() {
        return "layers " + Arrays.toString(layers) + " x " + neuronsPerLayer + " neurons, batch " + batchSize + ", "
                + settings;
    }

    /**
     * This state (changed in place, then returned) with {@code next}, the following shard,
     * merged in. For folding shard by shard with one state in memory at a time.
     */
    PassState mergeWith(PassState next) {
        checkCompatible(next);
        for (int l = 0; l < tops.size(); l++) {
            tops.get(l).merge(next.tops.get(l));
        }
        reservoir.merge(next.reservoir);
        tokens.merge(next.tokens);
        tokens.prune(tops);
        ShardRange joined = new ShardRange(range.shard(), range.shards(), Math.min(range.from(), next.range.from()),
                Math.max(range.to(), next.range.to()));
        return new PassState(settings, batchSize, layers, neuronsPerLayer, joined,
                Math.max(nextWindow, next.nextWindow), done && next.done, tops, reservoir, tokens,
                documents + next.documents, windows + next.windows, tokensSkipped + next.tokensSkipped,
                seconds + next.seconds);
    }

    /** This merged state as the whole corpus's: one shard of one. */
    PassState asWhole() {
        return new PassState(settings, batchSize, layers, neuronsPerLayer, new ShardRange(0, 1, 0, range.to()),
                nextWindow, done, tops, reservoir, tokens, documents, windows, tokensSkipped, seconds);
    }

    /** For messages: a gpt2-small state's size is worth seeing in the logs. */
    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024));
    }
}
