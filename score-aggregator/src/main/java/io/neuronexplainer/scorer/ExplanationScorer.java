package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * Scores one explanation of one neuron: its simulation against the neuron's scoring windows.
 * The headline {@code correlation} is over all tokens of the top and random scoring windows
 * concatenated (not a mean of per-window scores), as in OpenAI's neuron-explainer.
 */
public final class ExplanationScorer {
    private ExplanationScorer() {}

    public static NeuronScore score(NeuronActivations activations, Simulation simulation, Instant at) {
        if (!activations.getNeuron().equals(simulation.getNeuron())) {
            throw new InvalidSimulationException("simulation is of neuron " + simulation.getNeuron()
                    + " but activations are of " + activations.getNeuron());
        }
        WindowPairing pairing = WindowPairing.of(activations, simulation);
        double[] t = WindowPairing.actual(pairing.all());
        double[] p = WindowPairing.predicted(pairing.all());
        List<String> undefined = new ArrayList<>();
        double correlation = orZero("correlation", ScoreFormulas.correlation(t, p), undefined);
        double top = orZero("top_correlation", ScoreFormulas.correlation(
                WindowPairing.actual(pairing.top()), WindowPairing.predicted(pairing.top())), undefined);
        double random = orZero("random_correlation", ScoreFormulas.correlation(
                WindowPairing.actual(pairing.random()), WindowPairing.predicted(pairing.random())), undefined);
        double rsquared = orZero("rsquared", ScoreFormulas.rsquared(t, p), undefined);
        double absDev = orZero("absolute_dev_explained", ScoreFormulas.absoluteDevExplained(t, p), undefined);
        return NeuronScore.newBuilder()
                .setNeuron(activations.getNeuron())
                .setExplanationId(simulation.getExplanationId())
                .setExplanationText(simulation.getExplanationText())
                .setSimulatorMethod(simulation.getSimulatorMethod())
                .setCorrelation(correlation)
                .setTopCorrelation(top)
                .setRandomCorrelation(random)
                .setRsquared(rsquared)
                .setAbsoluteDevExplained(absDev)
                .setUndefinedScores(undefined)
                .setTopWindows(pairing.top().size())
                .setRandomWindows(pairing.random().size())
                .setTokens(t.length)
                .setScoredAt(at)
                .build();
    }

    private static double orZero(String name, OptionalDouble value, List<String> undefined) {
        if (value.isEmpty()) {
            undefined.add(name);
            return 0;
        }
        return value.getAsDouble();
    }
}
