package io.neuronexplainer.explainer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ActivationScaleTest {
    @Test
    void floorsTenTimesTheShareOfTheMaximumAndZeroesNegatives() {
        ActivationScale s = new ActivationScale(2.0);
        assertEquals(10, s.scale(2.0));
        assertEquals(9, s.scale(1.99));
        assertEquals(5, s.scale(1.0));
        assertEquals(0, s.scale(0.19));
        assertEquals(0, s.scale(-3.0));
        assertEquals(0, s.scale(Double.NaN));
        assertEquals(10, s.scale(5.0), "above the explanation windows' max: capped at 10");
    }

    @Test
    void maxIsTakenOverAllExplanationWindows() {
        ActivationScale s = ActivationScale.over(List.of(ExplainerPromptTest.W1, ExplainerPromptTest.W2));
        assertEquals(4.0, s.maxActivation(), 1e-9);
        assertEquals(List.of(0, 5, 0, 0, 0, 0, 0), s.scale(ExplainerPromptTest.W1.getActivations()));
    }

    @Test
    void aNeuronThatNeverFiresScalesToZeros() {
        ActivationScale s = new ActivationScale(0);
        assertEquals(0, s.scale(1.0));
        assertEquals(0, new ActivationScale(-2).scale(-1.0));
    }
}
