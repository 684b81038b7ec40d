package io.neuronexplainer.producer.sampling;

/** One of a neuron's top windows: its index, the neuron's max over it, and its value at every token. */
public record TopWindow(long windowIndex, float maxActivation, float[] activations) {}
