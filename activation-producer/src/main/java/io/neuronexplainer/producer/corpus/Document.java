package io.neuronexplainer.producer.corpus;

/** One document of a corpus: its text and where it came from (for error messages and logs). */
public record Document(String source, String text) {}
