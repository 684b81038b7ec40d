package io.neuronexplainer.producer.model;

import static io.neuronexplainer.producer.model.SafetensorsFileTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sharded checkpoint (index + shards) loads like its single-file original; broken sets fail in one line. */
class ShardedCheckpointTest {
    private static final String TEXT = "The cat sat on the mat, and then it went to sleep.";

    @TempDir
    Path dir;

    @Test
    void demoCheckpointSplitInTwoShardsGivesTheSameActivations() throws IOException {
        Path sharded = split(DemoModel.finalCheckpoint(), dir.resolve("sharded"), 2);
        int[] ids;
        try (Gpt2Tokenizer tokenizer = Gpt2Tokenizer.load(DemoModel.tokenizerFile())) {
            ids = tokenizer.encode(TEXT);
        }
        int[] layers = {0, 3, 5};
        try (Gpt2Model single = Gpt2Model.load(DemoModel.finalCheckpoint()); Gpt2Model shards = Gpt2Model.load(sharded)) {
            float[][] want = single.mlpActivations(new int[][] {ids}, layers);
            float[][] got = shards.mlpActivations(new int[][] {ids}, layers);
            for (int i = 0; i < layers.length; i++) {
                assertArrayEquals(want[i], got[i], "layer " + layers[i]);
            }
            assertFalse(Arrays.equals(want[0], want[2]), "layers differ, so the comparison is not vacuous");
        }
        try (Gpt2Checkpoint checkpoint = Gpt2Checkpoint.open(sharded)) {
            assertEquals(List.of(sharded.resolve("model-00001-of-00002.safetensors"),
                    sharded.resolve("model-00002-of-00002.safetensors")), checkpoint.weightFiles());
        }
    }

    @Test
    void missingShardIsOneLineNamingIt() throws IOException {
        Path sharded = split(DemoModel.finalCheckpoint(), dir.resolve("missing"), 2);
        Files.delete(sharded.resolve("model-00002-of-00002.safetensors"));
        Path index = sharded.resolve(SafetensorsIndex.FILE_NAME);
        assertOneLine(index, "shard model-00002-of-00002.safetensors named in weight_map not found", () -> Gpt2Model.load(sharded));
        assertOneLine(index, "shard model-00002-of-00002.safetensors", () -> Gpt2Checkpoint.open(sharded).close());
    }

    @Test
    void indexAndShardsThatDisagreeAreOneLineNamingTheTensor() throws IOException {
        Path sharded = split(DemoModel.finalCheckpoint(), dir.resolve("disagree"), 2);
        Path index = sharded.resolve(SafetensorsIndex.FILE_NAME);
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(index.toFile());
        String moved = json.get("weight_map").fieldNames().next();
        ((ObjectNode) json.get("weight_map")).put(moved, "model-00002-of-00002.safetensors");
        Files.writeString(index, json.toString());
        assertOneLine(sharded.resolve("model-00001-of-00002.safetensors"),
                "holds tensor " + moved + " but weight_map puts it in shard model-00002-of-00002.safetensors",
                () -> Gpt2Checkpoint.open(sharded).close());

        // A tensor the index names but no shard holds: the set is incomplete.
        Path incomplete = split(DemoModel.finalCheckpoint(), dir.resolve("short"), 2);
        Path shard2 = incomplete.resolve("model-00002-of-00002.safetensors");
        SafetensorsWriter rewritten = new SafetensorsWriter();
        String dropped;
        try (SafetensorsFile original = SafetensorsFile.open(shard2)) {
            List<SafetensorsFile.Tensor> tensors = new ArrayList<>(original.tensors().values());
            byte[] bytes = Files.readAllBytes(shard2);
            dropped = tensors.remove(tensors.size() - 1).name();
            for (SafetensorsFile.Tensor t : tensors) {
                rewritten.raw(t.name(), t.dtype().name(), t.shape(), rawBytes(bytes, t));
            }
        }
        rewritten.write(shard2);
        String canonical = dropped.replaceFirst("^transformer\\.", "");
        assertOneLine(incomplete.resolve(SafetensorsIndex.FILE_NAME),
                "missing tensor " + canonical, () -> Gpt2Checkpoint.open(incomplete).close());
        assertOneLine(incomplete.resolve(SafetensorsIndex.FILE_NAME),
                "in shard model-00002-of-00002.safetensors, where weight_map puts it", () -> Gpt2Checkpoint.open(incomplete).close());
    }

    @Test
    void indexThatIsNotAWeightMapIsOneLine() throws IOException {
        Path sharded = split(DemoModel.finalCheckpoint(), dir.resolve("bad-index"), 2);
        Path index = sharded.resolve(SafetensorsIndex.FILE_NAME);
        Files.writeString(index, "{\"metadata\": {\"total_size\": 1}, \"weight_map\": {\"wte.weight\": \"../elsewhere.safetensors\"}}");
        assertOneLine(index, "not a file name in the same folder", () -> Gpt2Checkpoint.open(sharded).close());
        Files.writeString(index, "{\"metadata\": {\"total_size\": 1}");
        assertOneLine(index, "not a readable JSON index", () -> Gpt2Checkpoint.open(sharded).close());
        Files.writeString(index, "{\"metadata\": {}}");
        assertOneLine(index, "no weight_map", () -> Gpt2Checkpoint.open(sharded).close());
    }

    /**
     * Copies a single-file checkpoint's config into {@code target} and splits its weights, in header
     * order, into {@code count} shards plus a HuggingFace-style index.
     */
    static Path split(Path source, Path target, int count) throws IOException {
        Files.createDirectories(target);
        Files.copy(source.resolve("config.json"), target.resolve("config.json"));
        Path weights = source.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        ObjectMapper json = new ObjectMapper();
        ObjectNode index = json.createObjectNode();
        index.putObject("metadata").put("total_size", bytes.length);
        ObjectNode weightMap = index.putObject("weight_map");
        try (SafetensorsFile file = SafetensorsFile.open(weights)) {
            List<SafetensorsFile.Tensor> tensors = new ArrayList<>(file.tensors().values());
            int perShard = (tensors.size() + count - 1) / count;
            for (int s = 0; s < count; s++) {
                String name = String.format("model-%05d-of-%05d.safetensors", s + 1, count);
                SafetensorsWriter writer = new SafetensorsWriter();
                for (SafetensorsFile.Tensor t : tensors.subList(s * perShard, Math.min(tensors.size(), (s + 1) * perShard))) {
                    writer.raw(t.name(), t.dtype().name(), t.shape(), rawBytes(bytes, t));
                    weightMap.put(t.name(), name);
                }
                writer.write(target.resolve(name));
            }
        }
        Files.writeString(target.resolve(SafetensorsIndex.FILE_NAME), json.writerWithDefaultPrettyPrinter().writeValueAsString(index));
        return target;
    }

    /** A tensor's bytes as stored: the data section starts after the 8-byte length and the header. */
    private static byte[] rawBytes(byte[] file, SafetensorsFile.Tensor t) {
        long dataStart = 8 + ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return Arrays.copyOfRange(file, (int) (dataStart + t.begin()), (int) (dataStart + t.end()));
    }
}
