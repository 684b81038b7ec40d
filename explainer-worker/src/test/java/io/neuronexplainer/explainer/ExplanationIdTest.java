package io.neuronexplainer.explainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.schemas.NeuronActivations;
import org.junit.jupiter.api.Test;

class ExplanationIdTest {
    @Test
    void stableForTheSameInputsAndDifferentOtherwise() {
        String id = ExplanationId.of(neuron(1), "m", "gpt", "v1");
        assertEquals(id, ExplanationId.of(neuron(1), "m", "gpt", "v1"));
        assertNotEquals(id, ExplanationId.of(neuron(2), "m", "gpt", "v1"));
        assertNotEquals(id, ExplanationId.of(neuron(1), "m", "gpt", "v2"));
        assertNotEquals(id, ExplanationId.of(neuron(1), "other", "gpt", "v1"));
        assertNotEquals(id, ExplanationId.of(neuron(1), "m", "gpt-4o", "v1"));
        NeuronActivations otherRun = neuron(1);
        otherRun.getRun().setRunId("run-2");
        assertNotEquals(id, ExplanationId.of(otherRun, "m", "gpt", "v1"));
    }

    private static NeuronActivations neuron(int n) {
        return SampleRecords.activations(SampleRecords.key(0, n));
    }
}
