package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalDouble;

/**
 * Scores one explanation of one neuron: its simulation against the neuron's scoring windows.
 * The headline {@code correlation} is over all tokens of the top and random scoring windows
 * concatenated (not a mean of per-window scores), as in OpenAI's neuron-explainer. A detection or
 * fuzzing simulation (a judge's answers) is scored by {@link JudgedExplanationScorer}. The score is
 * of the activations' run and the simulation's scorer kind, and its id is {@link Identities#scoreId} of it.
 */
public final class ExplanationScorer {
    private ExplanationScorer() {}

    /** The run whose windows the activations are; "" when they carry none. */
    public static String runId(NeuronActivations activations) {
        return activations.getRun() == null ? "" : activations.getRun().getRunId();
    }

    /**
     * Whether the simulation is of the activations' run, so its windows are theirs. A simulation
     * without a run id (written before simulations carried one) is taken to be.
     */
    public static boolean sameRun(NeuronActivations activations, Simulation simulation) {
        return simulation.getRunId().isEmpty() || simulation.getRunId().equals(runId(activations));
    }

    /** The identity of the score of this simulation against these activations. */
    public static String scoreId(NeuronActivations activations, Simulation simulation) {
        return scoreId(activations.getNeuron(), runId(activations), simulation);
    }

    /** The identity of the score of this simulation against the neuron's activations of run {@code runId}. */
    public static String scoreId(NeuronKey neuron, String runId, Simulation simulation) {
        return Identities.scoreId(neuron, runId, simulation.getExplanationId(), simulation.getScorerKind(),
                simulation.getSimulatorMethod(), simulation.getCarriedFrom());
    }

    /** Whether the simulation was judged (detection, fuzzing) rather than simulated token by token. */
    public static boolean judged(String scorerKind) {
        return Identities.DETECTION_SCORER.equals(scorerKind) || Identities.FUZZING_SCORER.equals(scorerKind);
    }

    public static NeuronScore score(NeuronActivations activations, Simulation simulation, Instant at) {
        if (!activations.getNeuron().equals(simulation.getNeuron())) {
            throw new InvalidSimulationException("simulation is of neuron " + simulation.getNeuron()
                    + " but activations are of " + activations.getNeuron());
        }
        if (!sameRun(activations, simulation)) {
            throw new InvalidSimulationException("simulation is of run " + simulation.getRunId()
                    + " but activations are of run " + runId(activations));
        }
        if (judged(simulation.getScorerKind())) {
            return JudgedExplanationScorer.score(activations, simulation, at);
        }
        if (!Identities.SIMULATION_SCORER.equals(simulation.getScorerKind())) {
            throw new InvalidSimulationException("unknown scorer kind " + simulation.getScorerKind());
        }
        WindowPairing pairing = WindowPairing.of(activations, simulation);
        double[] topT = WindowPairing.actual(pairing.top());
        double[] topP = WindowPairing.predicted(pairing.top());
        double[] randomT = WindowPairing.actual(pairing.random());
        double[] randomP = WindowPairing.predicted(pairing.random());
        double[] t = joined(topT, randomT); // all(): the top windows, then the random ones
        double[] p = joined(topP, randomP);
        List<String> undefined = new ArrayList<>();
        double correlation = orZero("correlation", ScoreFormulas.correlation(t, p), undefined);
        double top = orZero("top_correlation", ScoreFormulas.correlation(topT, topP), undefined);
        double random = orZero("random_correlation", ScoreFormulas.correlation(randomT, randomP), undefined);
        double rsquared = orZero("rsquared", ScoreFormulas.rsquared(t, p), undefined);
        double absDev = orZero("absolute_dev_explained", ScoreFormulas.absoluteDevExplained(t, p), undefined);
        return NeuronScore.newBuilder()
                .setNeuron(activations.getNeuron())
                .setExplanationId(simulation.getExplanationId())
                .setExplanationText(simulation.getExplanationText())
                .setSimulatorMethod(simulation.getSimulatorMethod())
                .setExplainerMethod(simulation.getExplainerMethod())
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
                .setRunId(runId(activations))
                .setScorerKind(Identities.SIMULATION_SCORER)
                .setCarriedFrom(simulation.getCarriedFrom())
                .setScoreId(scoreId(activations, simulation))
                .setExplainerPromptTokens(simulation.getExplainerPromptTokens())
                .setSimulationPromptTokens(simulation.getPromptTokens())
                .build();
    }

    private static double orZero(String name, OptionalDouble value, List<String> undefined) {
        if (value.isEmpty()) {
            undefined.add(name);
            return 0;
        }
        return value.getAsDouble();
    }

    private static double[] joined(double[] first, double[] second) {
        double[] out = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, out, first.length, second.length);
        return out;
    }
}
