package io.neuronexplainer.scorer.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.neuronexplainer.schemas.DriftKey;
import io.neuronexplainer.schemas.NeuronDrift;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayerDriftTest {
    static NeuronDrift drift(int layer, int neuron, String from, String to, long fromStep, double activation,
                             Double fromBest, Double toBest, Double carried) {
        return NeuronDrift.newBuilder().setKey(new DriftKey("m", "series-1", layer, neuron, from, to))
                .setFromStep(fromStep).setToStep(fromStep + 100).setActivationDrift(activation).setActivationDriftUndefined(false)
                .setRandomWindows(50).setTopWindowOverlap(0.5).setFromBest(fromBest).setToBest(toBest)
                .setScoreDelta(fromBest == null || toBest == null ? null : toBest - fromBest).setCarriedCorrelation(carried)
                .setComputedAt(Instant.EPOCH).build();
    }

    @Test
    void aggregatesPerLayerAndPairInStepOrder() {
        List<LayerDrift> out = LayerDrift.of(List.of(
                drift(0, 1, "b", "c", 200, 0.4, 0.6, 0.4, 0.55),   // holds (0.55 >= 0.5), stopped being explainable
                drift(0, 2, "b", "c", 200, 0.2, 0.3, 0.7, 0.1),    // does not hold, became explainable
                drift(0, 3, "b", "c", 200, 0.0, 0.2, 0.3, null),   // not carried yet
                drift(0, 1, "a", "b", 100, 1.0, 0.5, 0.6, 0.6),
                drift(1, 1, "a", "b", 100, 0.5, null, 0.6, null)));
        assertEquals(3, out.size());
        LayerDrift first = out.get(0);
        assertEquals(List.of(0, 100), List.of(first.layer(), (int) (first.meanActivationDrift() * 100)));
        assertEquals("a", first.from());
        LayerDrift bc = out.get(1);
        assertEquals("b", bc.from());
        assertEquals(3, bc.neurons());
        assertEquals(0.2, bc.meanActivationDrift(), 1e-12);
        assertEquals(2, bc.carried());
        assertEquals(1, bc.holding());
        assertEquals(0.5, bc.holdRate(), 1e-12);
        assertEquals(List.of(2), bc.becameExplainable());
        assertEquals(List.of(1), bc.stoppedExplainable());
        assertEquals(Double.NaN, out.get(2).holdRate());
    }

    @Test
    void countsPromptTokensWithReuseAgainstWithout() {
        NeuronDrift reused = NeuronDrift.newBuilder(drift(0, 1, "a", "b", 100, 0.1, 0.6, 0.6, 0.6))
                .setExplanationReused(true).setToPromptTokens(900 + 400).setCarriedPromptTokens(400).build();
        NeuronDrift changed = NeuronDrift.newBuilder(drift(0, 2, "a", "b", 100, 0.9, 0.6, 0.7, 0.1))
                .setToPromptTokens(1000 + 450).setCarriedPromptTokens(420).build();
        NeuronDrift notCarriedYet = NeuronDrift.newBuilder(drift(0, 3, "a", "b", 100, 0.5, null, 0.4, null))
                .setToPromptTokens(1200).build();
        LayerDrift d = LayerDrift.of(List.of(reused, changed, notCarriedYet)).get(0);
        // With reuse: the reused neuron costs only its carried simulation; the changed one both.
        assertEquals(400 + (1450 + 420) + 1200, d.promptTokensWithReuse());
        assertEquals(1300 + 1450 + 1200, d.promptTokensWithoutReuse());
        assertEquals(900 - 420, d.netTokenSaving()); // the explainer call saved, less the changed neuron's carried simulation
    }
}
