package io.neuronexplainer.watcher;

/**
 * A checkpoint a source has found: its name (folder or branch name), its training step when known
 * (null otherwise), and the revision that pins its content (the Hub's commit sha; for a folder, a
 * fingerprint of its files' names, sizes and modification times).
 */
public record CheckpointCandidate(String name, Long step, String revision) {}
