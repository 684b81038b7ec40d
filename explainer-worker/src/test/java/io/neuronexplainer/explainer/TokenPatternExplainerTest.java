package io.neuronexplainer.explainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.runtime.test.SampleRecords;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokenPatternExplainerTest {
    static final List<ActivationWindow> WINDOWS = List.of(
            ExplainerPromptTest.window(1, List.of(" We", " stayed", " home", " because", " of", " the", " Rain", "."),
                    0f, 0f, 0.2f, 0.5f, 3.0f, 0f, 4.0f, 0f),
            ExplainerPromptTest.window(2, List.of(" rain", " fell", " all", " day", " and", " most", " of", " the", " night"),
                    3.8f, 0.4f, 0f, 0f, 0f, 0f, 0f, 0f, 0f),
            ExplainerPromptTest.window(3, List.of(" Heavy", " rain", " is", " expected", " because", " of", " a", " storm"),
                    0.6f, 4.0f, 0f, 0f, 0.4f, 2.6f, 0f, 1.0f));

    @Test
    void listsTheTokensAndContextsTheNeuronFiresOnWithTheirStrength() {
        String text = TokenPatternExplainer.explain(WINDOWS);
        // " rain"/" Rain" fire 4.0, 3.8, 4.0 of max 4.0: one case-insensitive token, mean 9.8 of 10.
        assertTrue(text.startsWith(" the tokens \"rain\" ("), text);
        // " of" fires only after " because": a context, not a token on its own.
        assertTrue(text.contains("\"of\" after \"because\" ("), text);
        String firing = text.substring(0, text.indexOf(';'));
        assertFalse(firing.contains("\"the\""), text);
        // "the" is seen 3 times and never fires: listed as quiet.
        assertTrue(text.contains("hardly on ") && text.substring(text.indexOf("hardly on ")).contains("\"the\" (0)"), text);
        assertTrue(text.contains("elsewhere about "), text);
        assertTrue(text.endsWith("."), text);
        assertFalse(text.contains("\n"));
    }

    @Test
    void quotesAndControlCharactersAreEscaped() {
        String text = TokenPatternExplainer.explain(List.of(ExplainerPromptTest.window(1,
                List.of(" say", " \"", "\n", " hi"), 0f, 5f, 4f, 0f)));
        assertTrue(text.startsWith(" the tokens \"\\\"\" ("), text);
        assertTrue(text.contains(", \"\\n\" ("), text);
        assertFalse(text.contains("\n"));
    }

    @Test
    void aNeuronThatNeverFiresSaysSo() {
        String text = TokenPatternExplainer.explain(List.of(ExplainerPromptTest.window(1, List.of(" a", " b"), -1f, 0f)));
        assertTrue(text.startsWith(" no token in particular"), text);
    }

    @Test
    void explainsARecordAsABaselineWithoutAModel() throws Exception {
        NeuronActivations n = SampleRecords.activations(SampleRecords.key(0, 1));
        TokenPatternExplainer e = new TokenPatternExplainer();
        ExplainerResult r = e.explain(n).get();
        assertEquals("token-pattern-baseline", e.method());
        assertEquals("none", e.model());
        assertEquals(TokenPatternExplainer.PROMPT_VERSION, r.promptVersion());
        assertTrue(r.text().startsWith(" the tokens \"cat\" ("), r.text());
    }
}
