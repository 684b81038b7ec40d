package io.neuronexplainer.watcher.hub;

/** A file of a Hub revision: its path in the repository, its size, and its sha256 when it is stored with LFS (null otherwise). */
public record HubFile(String path, long size, String sha256) {}
