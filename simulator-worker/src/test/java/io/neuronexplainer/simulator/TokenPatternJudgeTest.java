package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.explainer.TokenPatternExplainer;
import io.neuronexplainer.schemas.ActivatingTokens;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.Judgement;
import io.neuronexplainer.schemas.SimulationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The offline judge: detection and fuzzing answered from a token-pattern explanation's predictions. */
class TokenPatternJudgeTest {
    /** "rain" strongly, "snow" well, "the" barely above the level elsewhere. */
    static final String EXPLANATION = " the tokens \"rain\" (9), \"snow\" (6), \"the\" (1); elsewhere about 0.5.";

    static SimulationRequest request(String kind, String explanation, List<Excerpt> excerpts) {
        return new SimulationRequest(TokenPatternSimulatorTest.KEY, "e1", explanation, List.of(), "run-1", null, 0, "",
                kind, excerpts);
    }

    static Excerpt excerpt(long window, List<Integer> marked, String... tokens) {
        return new Excerpt(window, List.of(tokens), marked);
    }

    static List<Judgement> judge(SimulationRequest request) throws Exception {
        JudgeResult r = new TokenPatternJudge().judge(request).get();
        assertEquals(0, r.promptTokens());
        assertEquals(0, r.completionTokens());
        return r.judgements();
    }

    @Test
    void detectionSaysYesWhenAListedTokenReachesHalfwayToTheTopAndGivesTheMaxAsProbability() throws Exception {
        List<Excerpt> excerpts = List.of(
                excerpt(7, List.of(), " It", " will", " Rain", " today"), // "Rain": 0.5 + 0.6 * 8.5 = 5.6
                excerpt(3, List.of(), " the", " sun", " is", " out"),     // only "the" (1): listed, but weak
                excerpt(9, List.of(), " heavy", " snow"),                 // 6 >= 5.25
                excerpt(1, List.of(), " dry", " and", " rain"));          // 9
        List<Judgement> j = judge(request(Identities.DETECTION_SCORER, EXPLANATION, excerpts));
        assertEquals(List.of(true, false, true, true), j.stream().map(Judgement::getSaysYes).toList());
        assertEquals(List.of(0.56, 0.1, 0.6, 0.9), j.stream().map(Judgement::getYesProbability).toList().stream()
                .map(p -> Math.round(p * 1000) / 1000.0).toList());
        assertEquals(List.of(7L, 3L, 9L, 1L), j.stream().map(Judgement::getWindowIndex).toList(), "in the request's order");
        assertEquals(5.25, TokenPatternJudge.activatingLevel(0.5), 1e-9);
    }

    @Test
    void fuzzingSaysYesWhenTheMarkedTokensArePredictedClearlyAboveTheRest() throws Exception {
        List<Excerpt> excerpts = List.of(
                excerpt(1, List.of(2), " It", " will", " rain", " today"),        // the listed token marked
                excerpt(1, List.of(3), " It", " will", " rain", " today"),        // another token of the same window
                excerpt(2, List.of(0, 1), " snow", " rain", " and", " wind"),     // both listed tokens marked
                excerpt(2, List.of(2, 3), " snow", " rain", " and", " wind"),     // the quiet ones marked
                excerpt(4, List.of(1), " the", " the", " cat"),                   // lift 1 - 0.75 = 0.25: too little
                excerpt(5, List.of(), " rain", " today"));                        // no marks: no claim to judge
        List<Judgement> j = judge(request(Identities.FUZZING_SCORER, EXPLANATION, excerpts));
        assertEquals(List.of(true, false, true, false, false, false), j.stream().map(Judgement::getSaysYes).toList());
        // (lift + 10) / 20: rain marked, lift 9 - 0.5 = 8.5; rain unmarked, lift 0.5 - 3.33.
        assertEquals((8.5 + 10) / 20, j.get(0).getYesProbability(), 1e-6);
        assertEquals((0.5 - (0.5 + 0.5 + 9) / 3 + 10) / 20, j.get(1).getYesProbability(), 1e-6);
        assertEquals(0.5, j.get(5).getYesProbability(), 1e-9);
        for (int i = 0; i < excerpts.size(); i++) {
            assertEquals(excerpts.get(i).getMarked(), j.get(i).getMarked(), "marks echoed as shown");
            assertTrue(j.get(i).getYesProbability() >= 0 && j.get(i).getYesProbability() <= 1);
        }
    }

    @Test
    void anExplanationTheOfflineExplainerWroteSeparatesTopWindowsFromQuietOnesAndTrueMarksFromRandomOnes() throws Exception {
        Random r = new Random(7);
        List<ActivationWindow> explain = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            explain.add(TokenPatternSimulatorTest.window(i, r, 64));
        }
        String explanation = TokenPatternExplainer.explain(explain);
        // Top windows: "rain" in them; quiet windows: none of the synthetic neuron's tokens.
        List<Excerpt> detection = new ArrayList<>();
        List<Boolean> truth = new ArrayList<>();
        List<Excerpt> fuzzing = new ArrayList<>();
        List<Boolean> fuzzTruth = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            ActivationWindow w = TokenPatternSimulatorTest.window(100 + i, r, 32);
            List<String> tokens = new ArrayList<>(w.getTokens());
            boolean top = i % 2 == 0;
            if (top) {
                tokens.set(5, " rain");
            } else {
                tokens.replaceAll(t -> List.of("rain", "snow", "storm", "of").contains(t.strip().toLowerCase()) ? " day" : t);
            }
            detection.add(new Excerpt(w.getWindowIndex(), tokens, List.of()));
            truth.add(top);
            if (top) {
                List<Float> acts = new ArrayList<>();
                String prev = null;
                for (String t : tokens) {
                    acts.add(TokenPatternSimulatorTest.activation(prev, t, new Random(0)));
                    prev = t;
                }
                fuzzing.add(new Excerpt(w.getWindowIndex(), tokens, ActivatingTokens.positions(acts)));
                fuzzTruth.add(true);
                // A false marking: two quiet tokens, as the explainer picks them (not the activating ones).
                List<Integer> quiet = new ArrayList<>();
                for (int t = 10; t < tokens.size() && quiet.size() < 2; t++) {
                    if (acts.get(t) < 0.5) {
                        quiet.add(t);
                    }
                }
                fuzzing.add(new Excerpt(w.getWindowIndex(), tokens, quiet));
                fuzzTruth.add(false);
            }
        }
        List<Judgement> d = judge(request(Identities.DETECTION_SCORER, explanation, detection));
        assertEquals(truth, d.stream().map(Judgement::getSaysYes).toList(), explanation);
        List<Judgement> f = judge(request(Identities.FUZZING_SCORER, explanation, fuzzing));
        assertEquals(fuzzTruth, f.stream().map(Judgement::getSaysYes).toList(), explanation);
    }

    @Test
    void aSimulationRequestIsNotTheJudgesToAnswer() {
        ExecutionException e = assertThrows(ExecutionException.class, () -> new TokenPatternJudge()
                .judge(request(Identities.SIMULATION_SCORER, EXPLANATION, List.of(excerpt(1, List.of(), " rain")))).get());
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        assertNotNull(e.getCause().getMessage());
        assertFalse(new TokenPatternJudge().method().isEmpty());
        assertEquals("none", new TokenPatternJudge().model());
    }
}
