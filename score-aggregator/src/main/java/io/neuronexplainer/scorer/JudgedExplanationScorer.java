package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;
import java.time.Instant;
import java.util.List;
import java.util.OptionalDouble;

/**
 * Scores one explanation by a detection or fuzzing judge's answers: balanced accuracy and, with
 * the judge's probabilities, AUROC, over the judgements with their truth recomputed from the
 * neuron's windows ({@link JudgementTruth}). The correlation fields are 0 (nothing was simulated)
 * and the window counts are the positives and negatives judged. The caller has checked neuron and run.
 * {@code undefined_scores} names the figures left null for want of judgements.
 */
final class JudgedExplanationScorer {
    private JudgedExplanationScorer() {}

    static NeuronScore score(NeuronActivations activations, Simulation simulation, Instant at) {
        // No judgements: the explainer found nothing to judge (no top window could be marked both ways)
        // and the pool made no call. The score says so (null figures, named undefined), so the neuron
        // still has one score of this kind.
        boolean nothing = simulation.getJudgements().isEmpty();
        JudgementTruth truth = JudgementTruth.of(activations, simulation);
        OptionalDouble auroc = Auroc.of(truth.excerpts());
        return NeuronScore.newBuilder()
                .setNeuron(activations.getNeuron())
                .setExplanationId(simulation.getExplanationId())
                .setExplanationText(simulation.getExplanationText())
                .setSimulatorMethod(simulation.getSimulatorMethod())
                .setExplainerMethod(simulation.getExplainerMethod())
                .setCorrelation(0)
                .setTopCorrelation(0)
                .setRandomCorrelation(0)
                .setRsquared(0)
                .setAbsoluteDevExplained(0)
                .setUndefinedScores(nothing ? List.of("balanced_accuracy", "auroc") : List.of())
                .setTopWindows(truth.positives())
                .setRandomWindows(truth.negatives())
                .setTokens(truth.tokens())
                .setScoredAt(at)
                .setRunId(ExplanationScorer.runId(activations))
                .setScorerKind(simulation.getScorerKind())
                .setCarriedFrom(simulation.getCarriedFrom())
                .setScoreId(ExplanationScorer.scoreId(activations, simulation))
                .setExplainerPromptTokens(simulation.getExplainerPromptTokens())
                .setSimulationPromptTokens(simulation.getPromptTokens())
                .setBalancedAccuracy(nothing ? null : BalancedAccuracy.of(truth.excerpts()))
                .setAuroc(auroc.isPresent() ? auroc.getAsDouble() : null)
                .setJudgements(truth.excerpts())
                .build();
    }
}
