package io.neuronexplainer.watcher.folder;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.neuronexplainer.producer.model.SafetensorsFile;
import io.neuronexplainer.producer.model.SafetensorsIndex;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Splits a single-file checkpoint's weights into two safetensors shards and a HuggingFace-style index, for tests. */
final class ShardedCopy {
    static final String FIRST = "model-00001-of-00002.safetensors";
    static final String SECOND = "model-00002-of-00002.safetensors";

    private ShardedCopy() {}

    /** Writes {@code weights}' tensors, first half then second half, as two shards plus the index into {@code target}. */
    static void split(Path weights, Path target) throws IOException {
        byte[] bytes = Files.readAllBytes(weights);
        long dataStart = 8 + ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectMapper json = new ObjectMapper();
        ObjectNode index = json.createObjectNode();
        index.putObject("metadata").put("total_size", bytes.length - dataStart);
        ObjectNode weightMap = index.putObject("weight_map");
        List<SafetensorsFile.Tensor> tensors;
        try (SafetensorsFile file = SafetensorsFile.open(weights)) {
            tensors = new ArrayList<>(file.tensors().values());
        }
        int half = tensors.size() / 2;
        for (String shard : List.of(FIRST, SECOND)) {
            ObjectNode header = json.createObjectNode();
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            for (SafetensorsFile.Tensor t : shard.equals(FIRST) ? tensors.subList(0, half) : tensors.subList(half, tensors.size())) {
                ObjectNode entry = header.putObject(t.name());
                entry.put("dtype", t.dtype().name());
                var shape = entry.putArray("shape");
                for (long d : t.shape()) {
                    shape.add(d);
                }
                entry.putArray("data_offsets").add(data.size()).add(data.size() + t.end() - t.begin());
                data.write(bytes, (int) (dataStart + t.begin()), (int) (t.end() - t.begin()));
                weightMap.put(t.name(), shard);
            }
            byte[] headerBytes = json.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
            ByteBuffer out = ByteBuffer.allocate(8 + headerBytes.length + data.size()).order(ByteOrder.LITTLE_ENDIAN);
            out.putLong(headerBytes.length).put(headerBytes).put(data.toByteArray());
            Files.write(target.resolve(shard), out.array());
        }
        Files.writeString(target.resolve(SafetensorsIndex.FILE_NAME), json.writeValueAsString(index));
    }
}
