package io.neuronexplainer.watcher;

import java.nio.file.Path;

/**
 * A checkpoint whose files are on this machine: the folder with {@code config.json} and the
 * weights, its {@code tokenizer.json}, and whether the watcher downloaded the folder (then the
 * producer may delete it once the run is complete).
 */
public record LocalCheckpoint(CheckpointCandidate candidate, Path folder, Path tokenizer, boolean downloaded) {}
