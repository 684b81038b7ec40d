package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.neuronexplainer.schemas.ActivatingTokens;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.JudgedExcerpt;
import io.neuronexplainer.schemas.Judgement;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Simulation;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Detection and fuzzing scores: the truth recomputed from the neuron's windows, the figures, the
 * simulations refused, and the export's entries, whose figures recompute from their own judgements.
 */
class JudgedExplanationScorerTest {
    private static final double EPS = 1e-12;
    static final NeuronKey KEY = Fixtures.key(4, 9);
    // Top windows 0, 1, 2; random windows 1000 and 1001 quiet, 1002 not.
    static final List<List<Float>> TOP = List.of(List.of(0f, 5f, 1f, 4f, 0f), List.of(3f, 0f, 0f, 0f), List.of(0f, 0f, 2f, 2.2f));
    static final List<List<Float>> RANDOM = List.of(List.of(0.1f, 0f, 0.05f), List.of(0f, 0.2f, 0f), List.of(3f, 0f, 0f));
    static final NeuronActivations TRUTH = Fixtures.activations(KEY, TOP, RANDOM);

    static Simulation detection() {
        return Fixtures.judged(KEY, "e1", Identities.DETECTION_SCORER, List.of(
                Fixtures.judgement(1001, List.of(), false, 0.2), Fixtures.judgement(0, List.of(), true, 0.9),
                Fixtures.judgement(1000, List.of(), true, 0.6), Fixtures.judgement(2, List.of(), false, 0.4),
                Fixtures.judgement(1, List.of(), true, 0.7)));
    }

    static Simulation fuzzing() {
        return Fixtures.judged(KEY, "e1", Identities.FUZZING_SCORER, List.of(
                Fixtures.judgement(0, List.of(1, 3), true, null),       // the activating tokens: a true marking
                Fixtures.judgement(1, List.of(2), true, null),          // a decoy
                Fixtures.judgement(2, List.of(3, 2, 2), false, null))); // {2, 3}: true, however written
    }

    @Test
    void detectionTruthIsTopOrRandomByWindowIndex() {
        NeuronScore s = ExplanationScorer.score(TRUTH, detection(), Instant.EPOCH);
        assertEquals(List.of(false, true, false, true, true), s.getJudgements().stream().map(JudgedExcerpt::getTruth).toList());
        assertEquals(List.of(1001L, 0L, 1000L, 2L, 1L), s.getJudgements().stream().map(JudgedExcerpt::getWindowIndex).toList(),
                "in the judge's order");
        // Positives right 2/3 (0, 1; not 2), negatives right 1/2 (1001; not 1000).
        assertEquals((2.0 / 3 + 0.5) / 2, s.getBalancedAccuracy(), EPS);
        // Positives 0.9, 0.7, 0.4 against negatives 0.2, 0.6: 2 + 2 + 1 pairs of 6.
        assertEquals(5.0 / 6, s.getAuroc(), EPS);
        assertEquals(Identities.DETECTION_SCORER, s.getScorerKind());
        assertEquals(3, s.getTopWindows());
        assertEquals(2, s.getRandomWindows());
        assertEquals(5 + 4 + 4 + 3 + 3, s.getTokens(), "the judged windows' tokens");
        assertEquals(0.0, s.getCorrelation());
        assertTrue(s.getUndefinedScores().isEmpty());
        assertEquals(250, s.getSimulationPromptTokens(), "the judge's prompt tokens");
        assertEquals(40, s.getExplainerPromptTokens());
        assertEquals("test-explainer/v1", s.getExplainerMethod());
        assertEquals("judge-detection", s.getSimulatorMethod());
        assertEquals("run-1", s.getRunId());
        assertEquals(Identities.scoreId(KEY, "run-1", "e1", Identities.DETECTION_SCORER, "judge-detection", null), s.getScoreId());
    }

    @Test
    void fuzzingTruthIsWhetherTheMarkedTokensAreTheActivatingOnes() {
        assertEquals(List.of(1, 3), ActivatingTokens.positions(TOP.get(0)));
        NeuronScore s = ExplanationScorer.score(TRUTH, fuzzing(), Instant.EPOCH);
        assertEquals(List.of(true, false, true), s.getJudgements().stream().map(JudgedExcerpt::getTruth).toList());
        assertEquals(List.of(3, 2, 2), s.getJudgements().get(2).getMarked(), "the marking as shown");
        // Positives right 1/2 (window 0; not 2), negatives right 0/1 (window 1 judged true).
        assertEquals(0.25, s.getBalancedAccuracy(), EPS);
        assertNull(s.getAuroc(), "no probabilities");
        assertEquals(2, s.getTopWindows());
        assertEquals(1, s.getRandomWindows());
        assertEquals(Identities.FUZZING_SCORER, s.getScorerKind());
    }

    @Test
    void eachKindIsItsOwnScoreAndSimulation() {
        Simulation simulation = Fixtures.simulation(KEY, "e1", TOP, RANDOM);
        Simulation detection = detection();
        Simulation sameMethod = Simulation.newBuilder(detection).setSimulatorMethod(simulation.getSimulatorMethod()).build();
        assertNotEquals(ExplanationScorer.scoreId(TRUTH, simulation), ExplanationScorer.scoreId(TRUTH, sameMethod));
        assertNotEquals(StoreKeys.simulation(KEY, simulation), StoreKeys.simulation(KEY, sameMethod),
                "a detection must not replace the explanation's simulation in the store");
        assertEquals(StoreKeys.simulation(KEY, "e1", simulation.getSimulatorMethod()), StoreKeys.simulation(KEY, simulation),
                "a simulation keeps the key it had before the judged kinds");
        assertTrue(StoreKeys.simulation(KEY, sameMethod).startsWith(StoreKeys.neuron(KEY)), "found by the neuron's prefix scan");
        Simulation fuzzingSameMethod = Simulation.newBuilder(fuzzing()).setSimulatorMethod(simulation.getSimulatorMethod()).build();
        assertNotEquals(StoreKeys.simulation(KEY, sameMethod), StoreKeys.simulation(KEY, fuzzingSameMethod));
    }

    @Test
    void nothingJudgedIsAScoreWithItsFiguresUndefined() {
        var score = ExplanationScorer.score(TRUTH, Fixtures.judged(KEY, "e1", Identities.FUZZING_SCORER, List.of()), Instant.EPOCH);
        assertEquals(Identities.FUZZING_SCORER, score.getScorerKind());
        assertEquals(null, score.getBalancedAccuracy());
        assertEquals(null, score.getAuroc());
        assertEquals(List.of("balanced_accuracy", "auroc"), score.getUndefinedScores());
        assertEquals(0, score.getTopWindows() + score.getRandomWindows());
    }

    @Test
    void judgementsOfWindowsTheNeuronWasNotScoredOnAreRefused() {
        assertRefused(Fixtures.judged(KEY, "e1", Identities.DETECTION_SCORER, List.of(Fixtures.judgement(0, List.of(), true, null),
                Fixtures.judgement(7, List.of(), false, null))), "detection judges window 7, which is not a scoring window");
        assertRefused(Fixtures.judged(KEY, "e1", Identities.FUZZING_SCORER, List.of(Fixtures.judgement(1000, List.of(0), true, null))),
                "fuzzing judges window 1000, which is not a scoring top window");
        assertRefused(Fixtures.judged(KEY, "e1", Identities.DETECTION_SCORER, List.of(Fixtures.judgement(0, List.of(), true, null),
                Fixtures.judgement(0, List.of(), false, null))), "judges window 0 twice");
        assertRefused(Fixtures.judged(KEY, "e1", Identities.FUZZING_SCORER, List.of(Fixtures.judgement(1, List.of(0, 4), true, null))),
                "fuzzing marks position 4 of window 1, which has 4 tokens");
        assertRefused(Fixtures.judged(KEY, "e1", "vibes", List.of(Fixtures.judgement(0, List.of(), true, null))),
                "unknown scorer kind vibes");
        assertRefused(Simulation.newBuilder(detection()).setRunId("run-2").build(), "simulation is of run run-2");
    }

    private static void assertRefused(Simulation simulation, String reason) {
        var e = assertThrows(InvalidSimulationException.class, () -> ExplanationScorer.score(TRUTH, simulation, Instant.EPOCH));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void theExportShowsOneEntryPerKindPerExplanationWhoseFiguresRecomputeFromItsJudgements() {
        // Two explanations, each simulated, detected and fuzzed by a judge answering at random.
        Random rnd = new Random(17);
        List<NeuronScore> scores = new ArrayList<>();
        List<Simulation> simulations = new ArrayList<>();
        for (String e : List.of("e1", "e2")) {
            Simulation sim = Fixtures.simulation(KEY, e, noisy(rnd, TOP), noisy(rnd, RANDOM));
            simulations.add(sim);
            List<Judgement> detected = new ArrayList<>();
            for (long w : new long[] {0, 1, 2, 1000, 1001}) {
                detected.add(Fixtures.judgement(w, List.of(), rnd.nextBoolean(), rnd.nextInt(5) / 4.0));
            }
            List<Judgement> fuzzed = new ArrayList<>();
            for (int w = 0; w < TOP.size(); w++) {
                List<Integer> marked = w % 2 == 0 ? ActivatingTokens.positions(TOP.get(w)) : List.of(0, 1);
                fuzzed.add(Fixtures.judgement(w, marked, rnd.nextBoolean(), rnd.nextDouble()));
            }
            simulations.add(Fixtures.judged(KEY, e, Identities.DETECTION_SCORER, detected));
            simulations.add(Fixtures.judged(KEY, e, Identities.FUZZING_SCORER, fuzzed));
        }
        for (Simulation s : simulations) {
            scores.add(ExplanationScorer.score(TRUTH, s, Instant.EPOCH));
        }
        java.util.Collections.shuffle(scores, rnd);
        ObjectNode doc = NeuronDocument.of(KEY, TRUTH, scores, simulations);

        JsonNode entries = doc.get("scores");
        assertEquals(6, entries.size());
        String best = doc.at("/best_explanation/explanation_id").asText();
        String other = best.equals("e1") ? "e2" : "e1";
        List<String> order = new ArrayList<>();
        entries.forEach(x -> order.add(x.get("explanation_id").asText() + "/" + x.get("scorer_kind").asText()));
        assertEquals(List.of(best + "/simulation", best + "/detection", best + "/fuzzing",
                other + "/simulation", other + "/detection", other + "/fuzzing"), order, "the best explanation first, kinds in order");
        for (JsonNode x : entries) {
            assertEquals("test-explainer/v1", x.get("explainer_method").asText(), "named as the simulation named it");
            assertFalse(x.get("simulator_method").asText().isEmpty());
            assertTrue(x.has("explainer_prompt_tokens") && x.has("simulation_prompt_tokens"));
            if (x.get("scorer_kind").asText().equals(Identities.SIMULATION_SCORER)) {
                assertTrue(x.has("correlation") && x.has("rsquared") && !x.has("balanced_accuracy") && !x.has("judgements"));
                continue;
            }
            assertFalse(x.has("correlation"), "a judged score has no correlation to show");
            assertEquals(250, x.get("simulation_prompt_tokens").asInt());
            // Recomputed from the entry's own judgements with plain loops.
            List<JudgedExcerpt> judged = new ArrayList<>();
            for (JsonNode j : x.get("judgements")) {
                List<Integer> marked = new ArrayList<>();
                j.get("marked").forEach(m -> marked.add(m.asInt()));
                judged.add(new JudgedExcerpt(j.get("window_index").asLong(), marked, j.get("truth").asBoolean(),
                        j.get("says_yes").asBoolean(), j.get("yes_probability").isNull() ? null : j.get("yes_probability").asDouble()));
            }
            assertEquals(JudgedScoreFormulasTest.balancedAccuracy(judged), x.get("balanced_accuracy").asDouble(), EPS);
            double auroc = JudgedScoreFormulasTest.auroc(judged);
            if (Double.isNaN(auroc)) {
                assertTrue(x.get("auroc").isNull());
            } else {
                assertEquals(auroc, x.get("auroc").asDouble(), EPS);
            }
            // And the truth is the windows': top (detection) or the activating tokens marked (fuzzing).
            for (JudgedExcerpt j : judged) {
                boolean top = j.getWindowIndex() < 1000;
                boolean expected = x.get("scorer_kind").asText().equals(Identities.DETECTION_SCORER) ? top
                        : new TreeSet<>(j.getMarked()).equals(new TreeSet<>(ActivatingTokens.positions(TOP.get((int) j.getWindowIndex()))));
                assertEquals(expected, j.getTruth(), "window " + j.getWindowIndex());
            }
        }
        // The simulations: the judges' answers are listed with their kind, and have no windows.
        long judgedSimulations = 0;
        for (JsonNode s : doc.get("simulations")) {
            if (!s.get("scorer_kind").asText().equals(Identities.SIMULATION_SCORER)) {
                judgedSimulations++;
                assertEquals(0, s.get("windows").size());
                assertTrue(s.get("judgements").size() > 0);
            }
        }
        assertEquals(4, judgedSimulations);
    }

    private static List<List<Float>> noisy(Random rnd, List<List<Float>> truth) {
        List<List<Float>> out = new ArrayList<>();
        for (List<Float> w : truth) {
            out.add(w.stream().map(a -> a * 2 + rnd.nextFloat()).toList());
        }
        return out;
    }

    @Test
    void theScoringProjectionKeepsWhatTheTruthNeeds() {
        // ActivationsProjection.scoring keeps window indexes and activations, not tokens: the same truth and figures.
        List<ActivationWindow> thinTop = TRUTH.getScoringTopWindows().stream().map(w -> new ActivationWindow(w.getWindowIndex(),
                w.getKind(), List.of(), List.of(), w.getActivations(), 0f)).toList();
        List<ActivationWindow> thinRandom = TRUTH.getScoringRandomWindows().stream().map(w -> new ActivationWindow(w.getWindowIndex(),
                w.getKind(), List.of(), List.of(), w.getActivations(), 0f)).toList();
        NeuronActivations thin = new NeuronActivations(KEY, List.of(), thinTop, thinRandom, null, TRUTH.getRun(), List.of());
        for (Simulation s : List.of(detection(), fuzzing())) {
            NeuronScore full = ExplanationScorer.score(TRUTH, s, Instant.EPOCH);
            NeuronScore projected = ExplanationScorer.score(thin, s, Instant.EPOCH);
            assertEquals(full, projected);
        }
    }
}
