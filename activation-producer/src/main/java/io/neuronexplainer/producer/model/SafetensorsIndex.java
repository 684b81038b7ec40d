package io.neuronexplainer.producer.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The index of a sharded safetensors checkpoint ({@code model.safetensors.index.json}, HuggingFace's
 * layout): which shard file, in the same folder, holds each tensor.
 */
public record SafetensorsIndex(Path file, Map<String, String> weightMap) {
    public static final String FILE_NAME = "model.safetensors.index.json";

    public SafetensorsIndex {
        weightMap = Collections.unmodifiableMap(new LinkedHashMap<>(weightMap));
    }

    /** Reads an index file; its {@code weight_map} must name at least one tensor and only plain file names. */
    public static SafetensorsIndex read(Path file) {
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new ModelLoadException(file, "file not found");
        } catch (IOException e) {
            throw new ModelLoadException(file, "not a readable JSON index: "
                    + (e.getMessage() == null ? "unreadable" : e.getMessage().lines().findFirst().orElse("")));
        }
        JsonNode map = json == null ? null : json.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new ModelLoadException(file, "no weight_map of tensor names to shard files");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String shard = e.getValue().isTextual() ? e.getValue().asText() : "";
            // A shard is a file beside the index; anything else could read outside the checkpoint.
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals(".") || shard.equals("..")) {
                throw new ModelLoadException(file, "weight_map puts tensor " + e.getKey() + " in " + e.getValue()
                        + ", not a file name in the same folder");
            }
            weightMap.put(e.getKey(), shard);
        }
        return new SafetensorsIndex(file, weightMap);
    }

    /** The shard file names, each once, in the order the weight map first names them. */
    public List<String> shards() {
        return new ArrayList<>(new LinkedHashSet<>(weightMap.values()));
    }

    /** Where a shard named in the weight map is: beside the index. */
    public Path shardPath(String shard) {
        return file.resolveSibling(shard);
    }
}
