package io.neuronexplainer.scorer.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.schemas.DriftPoint;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.scorer.ExplanationScorer;
import io.neuronexplainer.scorer.Fixtures;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The LLM prompt tokens a neuron took, followed from its simulation to its score, drift point and drift record. */
class DriftTokensTest {
    static final NeuronKey A = new NeuronKey("m", "a", 0, 7);
    static final NeuronKey B = new NeuronKey("m", "b", 0, 7);
    static final List<List<Float>> TOP = List.of(List.of(0f, 4f, 1f), List.of(2f, 0f, 5f));
    static final List<List<Float>> RANDOM = List.of(List.of(0f, 1f, 0f));

    static NeuronScore score(NeuronActivations on, String explanation, int explainerTokens, int simulationTokens, String carriedFrom) {
        Simulation s = Simulation.newBuilder(Fixtures.simulation(on.getNeuron(), explanation, TOP, RANDOM))
                .setExplainerPromptTokens(explainerTokens).setPromptTokens(simulationTokens).setCarriedFrom(carriedFrom).build();
        return ExplanationScorer.score(on, s, Instant.EPOCH);
    }

    @Test
    void aReusedExplanationCostsItsCarriedSimulationAndAChangedOneBoth() {
        NeuronActivations atA = Fixtures.activations(A, TOP, RANDOM);
        NeuronActivations atB = Fixtures.activations(B, TOP, RANDOM);
        NeuronScore own = score(atA, "e-a", 900, 400, null);
        assertEquals(900, own.getExplainerPromptTokens());
        assertEquals("test-explainer/v1", own.getExplainerMethod(), "the score names the explainer's method and prompt version");
        assertEquals(400, own.getSimulationPromptTokens());
        DriftPoint from = DriftPoints.merge(DriftPoints.of(atA), DriftPoints.best(own));
        DriftPoint to = DriftPoints.of(atB);
        assertEquals(900, DriftTracker.carriedRequest(from, to).getExplainerPromptTokens(),
                "a carried request says what writing the explanation took");
        assertEquals("test-explainer/v1", DriftTracker.carriedRequest(from, to).getExplainerMethod());

        NeuronScore carried = score(atB, "e-a", 900, 420, "a");
        to = DriftPoints.merge(to, DriftPoints.carried(carried));
        // Reused: the carried score comes back as the later checkpoint's best.
        DriftPoint reused = DriftPoints.merge(to, DriftPoints.best(carried));
        NeuronDrift r = PairDrift.of(from, reused, Instant.EPOCH);
        assertTrue(r.getExplanationReused());
        assertEquals(900 + 420, r.getToPromptTokens(), "what explaining it anew would have cost");
        assertEquals(420, r.getCarriedPromptTokens());
        assertEquals(420, LayerDrift.tokensWithReuse(r));
        assertEquals(1320, LayerDrift.tokensWithoutReuse(r));

        // Changed: explained anew at b, after the carried simulation was made.
        DriftPoint explained = DriftPoints.merge(to, DriftPoints.best(score(atB, "e-b", 1000, 450, null)));
        NeuronDrift c = PairDrift.of(from, explained, Instant.EPOCH);
        assertFalse(c.getExplanationReused());
        assertEquals(1450, c.getToPromptTokens());
        assertEquals(1450 + 420, LayerDrift.tokensWithReuse(c));
        assertEquals(1450, LayerDrift.tokensWithoutReuse(c));
    }
}
