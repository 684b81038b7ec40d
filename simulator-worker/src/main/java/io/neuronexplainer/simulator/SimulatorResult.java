package io.neuronexplainer.simulator;

import java.util.List;

/**
 * Predicted activations: one list per request window, in the request's order, each as long as
 * that window's tokens.
 */
public record SimulatorResult(List<List<Float>> predicted, int promptTokens, int completionTokens) {}
