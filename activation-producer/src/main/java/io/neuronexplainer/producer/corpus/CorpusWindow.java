package io.neuronexplainer.producer.corpus;

/** A window of consecutive tokens of one document, numbered by its position in the run's stream. */
public record CorpusWindow(long index, int[] ids) {}
