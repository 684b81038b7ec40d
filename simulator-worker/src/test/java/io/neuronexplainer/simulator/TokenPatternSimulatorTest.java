package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.explainer.TokenPatternExplainer;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import io.neuronexplainer.schemas.WindowKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenPatternSimulatorTest {
    static final NeuronKey KEY = new NeuronKey("demo-gpt2", "final", 3, 17);
    static final List<String> VOCAB = List.of(" the", " a", " of", " and", " to", " in", " it", " was", " day",
            " night", " wind", " cold", " we", " stayed", " home", " because", " storm", " heavy", " expected", ".",
            ",", " Rain", " rain", " snow", " sun");

    /**
     * A synthetic neuron: fires on "rain" (any case, 4.0), on "snow" (2.0), on "of" only after
     * "because" (3.0), a little on "storm" (0.8), slightly negative elsewhere.
     */
    static float activation(String prev, String token, Random noise) {
        String t = token.strip().toLowerCase();
        double a = switch (t) {
            case "rain" -> 4.0;
            case "snow" -> 2.0;
            case "storm" -> 0.8;
            case "of" -> " because".equals(prev) ? 3.0 : 0.0;
            default -> -0.05;
        };
        return (float) (a + 0.1 * noise.nextGaussian());
    }

    static ActivationWindow window(long index, Random r, int length) {
        List<String> tokens = new ArrayList<>();
        List<Float> acts = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        String prev = null;
        for (int i = 0; i < length; i++) {
            // Windows with "because of" often enough to learn the context.
            String t = prev != null && prev.equals(" because") && r.nextDouble() < 0.7 ? " of" : VOCAB.get(r.nextInt(VOCAB.size()));
            tokens.add(t);
            acts.add(activation(prev, t, r));
            ids.add(0);
            prev = t;
        }
        float max = acts.stream().max(Float::compare).orElse(0f);
        return new ActivationWindow(index, WindowKind.TOP, tokens, ids, acts, max);
    }

    static double pearson(List<Double> x, List<Double> y) {
        double mx = x.stream().mapToDouble(d -> d).average().orElse(0);
        double my = y.stream().mapToDouble(d -> d).average().orElse(0);
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.size(); i++) {
            sxy += (x.get(i) - mx) * (y.get(i) - my);
            sxx += (x.get(i) - mx) * (x.get(i) - mx);
            syy += (y.get(i) - my) * (y.get(i) - my);
        }
        return sxy / Math.sqrt(sxx * syy);
    }

    @Test
    void simulatorReadingTheExplainersTextRecoversTheActivations() throws Exception {
        Random r = new Random(42);
        List<ActivationWindow> explain = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            explain.add(window(i, r, 64));
        }
        List<ActivationWindow> scoring = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            scoring.add(window(100 + i, r, 64));
        }
        String explanation = TokenPatternExplainer.explain(explain);
        // The request carries the scoring windows' tokens only: TokenWindow has no activations.
        assertNull(TokenWindow.getClassSchema().getField("activations"));
        List<TokenWindow> windows = scoring.stream()
                .map(w -> new TokenWindow(w.getWindowIndex(), w.getKind(), w.getTokens())).toList();
        SimulationRequest request = new SimulationRequest(KEY, "e1", explanation, windows, "run-1", null, 0, "", io.neuronexplainer.schemas.Identities.SIMULATION_SCORER, List.of());
        SimulatorResult result = new TokenPatternSimulator().simulate(request).get();

        List<Double> truth = new ArrayList<>();
        List<Double> predicted = new ArrayList<>();
        double rainPredicted = 0;
        double theMax = 0;
        for (int w = 0; w < scoring.size(); w++) {
            List<String> tokens = scoring.get(w).getTokens();
            assertEquals(tokens.size(), result.predicted().get(w).size());
            for (int i = 0; i < tokens.size(); i++) {
                double p = result.predicted().get(w).get(i);
                assertTrue(p >= 0 && p <= 10, "prediction " + p + " outside 0-10");
                truth.add((double) scoring.get(w).getActivations().get(i));
                predicted.add(p);
                String k = tokens.get(i).strip().toLowerCase();
                if (k.equals("rain")) {
                    rainPredicted = Math.max(rainPredicted, p);
                }
                if (k.equals("the")) {
                    theMax = Math.max(theMax, p);
                }
            }
        }
        double r2 = pearson(truth, predicted);
        assertTrue(rainPredicted >= 8, "rain predicted " + rainPredicted + " from: " + explanation);
        assertTrue(theMax < 1.5, "'the' predicted " + theMax + " from: " + explanation);
        assertTrue(r2 > 0.9, "correlation " + r2 + " from: " + explanation);
    }

    @Test
    void readsTokensContextsAfterRulesAndTheLevelElsewhere() throws Exception {
        String text = " the tokens \"Rain\" (9), \"\\\"\" (5); \"of\" after \"because\" (7); "
                + "the token after \"heavy\" (4); elsewhere about 0.5.";
        SimulationRequest request = new SimulationRequest(KEY, "e1", text, List.of(new TokenWindow(1L, WindowKind.TOP,
                List.of(" Rain", " of", " because", " of", " heavy", " wind", " \"", " x", "rain"))), "run-1", null, 0, "", io.neuronexplainer.schemas.Identities.SIMULATION_SCORER, List.of());
        List<Float> p = new TokenPatternSimulator().simulate(request).get().predicted().get(0);
        // "rain" matches "Rain" only when case is ignored: 0.5 + 0.6 * (9 - 0.5) = 5.6.
        assertEquals(List.of(9f, 0.5f, 0.5f, 7f, 0.5f, 4f, 5f, 0.5f, 5.6f), p);
    }

    @Test
    void freeTextExplanationsGiveTheirQuotedWordsAndOtherwiseZeros() throws Exception {
        SimulationRequest quoted = new SimulationRequest(KEY, "e1", " the word \"rain\" in weather reports",
                List.of(new TokenWindow(1L, WindowKind.RANDOM, List.of(" Rain", " today"))), "run-1", null, 0, "", io.neuronexplainer.schemas.Identities.SIMULATION_SCORER, List.of());
        List<Float> p = new TokenPatternSimulator().simulate(quoted).get().predicted().get(0);
        assertTrue(p.get(0) > p.get(1), p.toString());
        SimulationRequest plain = new SimulationRequest(KEY, "e1", " weather", quoted.getWindows(), "run-1", null, 0, "", io.neuronexplainer.schemas.Identities.SIMULATION_SCORER, List.of());
        assertEquals(List.of(0f, 0f), new TokenPatternSimulator().simulate(plain).get().predicted().get(0));
    }
}
