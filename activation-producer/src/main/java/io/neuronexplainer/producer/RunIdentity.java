package io.neuronexplainer.producer;

/** What a producer run is about: model and checkpoint names, the corpus name, and a unique run id. */
public record RunIdentity(String model, String checkpoint, String corpus, String runId) {}
