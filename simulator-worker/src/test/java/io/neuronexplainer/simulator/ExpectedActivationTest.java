package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ExpectedActivationTest {
    @Test
    void expectedValueOverTheDigitTokensPresent() {
        // p(0)=.5, p(5)=.3, p(10)=.1, p(" the")=.1 (not a number): (0*.5 + 5*.3 + 10*.1) / (.5+.3+.1) = 2.5/.9.
        Map<String, Double> top = Map.of("0", Math.log(0.5), "5", Math.log(0.3), "10", Math.log(0.1),
                " the", Math.log(0.1));
        assertEquals(2.5 / 0.9, ExpectedActivation.of(top).getAsDouble(), 1e-9);
    }

    @Test
    void spellingsOfOneNumberAddUpAndOthersAreIgnored() {
        // " 3" and "3" are both 3: p(3)=.4, p(7)=.4 -> 5. "11" and "01" are not numbers 0-10.
        Map<String, Double> top = Map.of(" 3", Math.log(0.2), "3", Math.log(0.2), "\t7", Math.log(0.4),
                "11", Math.log(0.9), "01", Math.log(0.9));
        assertEquals(5.0, ExpectedActivation.of(top).getAsDouble(), 1e-9);
    }

    @Test
    void noNumberAmongTheCandidatesGivesNothing() {
        assertTrue(ExpectedActivation.of(Map.of("unknown", -0.1, "x", -3.0)).isEmpty());
        assertEquals(10, ExpectedActivation.digit(" 10 "));
        assertEquals(-1, ExpectedActivation.digit("1.5"));
    }
}
