package io.neuronexplainer.explainer;

/** An explanation (completing "the main thing this neuron does is find") and what it cost. */
public record ExplainerResult(String text, String promptVersion, int promptTokens, int completionTokens) {}
