package io.neuronexplainer.scorer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.JudgedExcerpt;
import io.neuronexplainer.schemas.Judgement;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.SimulatedWindow;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.WindowMax;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One neuron as JSON, for the HTTP API, the viewer and the export: its key, best explanation,
 * every score (one per explanation, scorer kind, simulator method, run and origin: {@link #score}),
 * and its windows under OpenAI neuron-explainer's names
 * ({@code most_positive_activation_records}, {@code random_sample}, each with {@code tokens} and
 * {@code activations}), the neuron's max on every window of its run's shared random sample
 * ({@code random_window_maxima}: the same windows for every checkpoint of a series, to compare
 * checkpoints window by window), plus every simulation's predictions per scoring window.
 */
public final class NeuronDocument {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private NeuronDocument() {}

    public static ObjectNode of(NeuronKey key, NeuronActivations activations, List<NeuronScore> scores,
                                List<Simulation> simulations) {
        return of(key, activations, scores, simulations, List.of());
    }

    /** As above, with the neuron's drift between consecutive checkpoints of its series ({@code history}). */
    public static ObjectNode of(NeuronKey key, NeuronActivations activations, List<NeuronScore> scores,
                                List<Simulation> simulations, List<NeuronDrift> history) {
        ObjectNode doc = JSON.objectNode();
        doc.set("neuron", key(key));
        // As BestExplanation: a carried score is not this checkpoint's own, a judged one not a correlation.
        NeuronScore best = scores.stream().filter(BestExplanation::competes)
                .reduce((a, b) -> BestExplanation.better(b, a) ? b : a).orElse(null);
        if (best == null) {
            doc.putNull("best_explanation");
        } else {
            ObjectNode b = doc.putObject("best_explanation");
            b.put("explanation_id", best.getExplanationId());
            b.put("text", best.getExplanationText());
            b.put("correlation", best.getCorrelation());
        }
        ArrayNode s = doc.putArray("scores");
        scores.stream().sorted(byExplanation(scores)).forEach(score -> s.add(score(score)));
        if (activations != null) {
            doc.put("max_activation", activations.getStats().getMaxActivation());
            doc.put("mean_activation", activations.getStats().getMeanActivation());
            ArrayNode top = doc.putArray("most_positive_activation_records");
            activations.getExplanationWindows().forEach(w -> top.add(window(w, "explanation")));
            activations.getScoringTopWindows().forEach(w -> top.add(window(w, "scoring")));
            ArrayNode random = doc.putArray("random_sample");
            activations.getScoringRandomWindows().forEach(w -> random.add(window(w, "scoring")));
            ArrayNode maxima = doc.putArray("random_window_maxima");
            for (WindowMax m : activations.getRandomWindowMaxima()) {
                maxima.addObject().put("window_index", m.getWindowIndex()).put("max_activation", m.getMaxActivation());
            }
        }
        ArrayNode pairs = doc.putArray("history");
        history.forEach(d -> pairs.add(drift(d)));
        ArrayNode sims = doc.putArray("simulations");
        for (Simulation sim : simulations) {
            ObjectNode o = sims.addObject();
            o.put("explanation_id", sim.getExplanationId());
            o.put("explanation_text", sim.getExplanationText());
            o.put("simulator_method", sim.getSimulatorMethod());
            o.put("simulator_model", sim.getSimulatorModel());
            o.put("run_id", sim.getRunId());
            o.put("scorer_kind", sim.getScorerKind());
            ArrayNode ws = o.putArray("windows");
            for (SimulatedWindow w : sim.getWindows()) {
                ObjectNode wo = ws.addObject();
                wo.put("kind", w.getKind().name());
                wo.put("window_index", w.getWindowIndex());
                ArrayNode p = wo.putArray("predicted");
                w.getPredicted().forEach(p::add);
            }
            if (!sim.getJudgements().isEmpty()) {
                ArrayNode js = o.putArray("judgements"); // as the judge answered; the score adds the truth
                for (Judgement j : sim.getJudgements()) {
                    ObjectNode jo = js.addObject().put("window_index", j.getWindowIndex());
                    j.getMarked().forEach(jo.putArray("marked")::add);
                    jo.put("says_yes", j.getSaysYes()).put("yes_probability", j.getYesProbability());
                }
            }
        }
        return doc;
    }

    /**
     * The scores grouped by explanation, the explanation with the best simulation score first (as
     * the best explanation is chosen), and within one explanation by scorer kind in
     * {@link Identities#SCORER_KINDS} order, own scores before carried ones.
     */
    static Comparator<NeuronScore> byExplanation(List<NeuronScore> scores) {
        Map<String, NeuronScore> bestOf = new HashMap<>();
        for (NeuronScore x : scores) {
            if (Identities.SIMULATION_SCORER.equals(x.getScorerKind())) {
                bestOf.merge(x.getExplanationId(), x, (a, b) -> BestExplanation.better(b, a) ? b : a);
            }
        }
        Comparator<String> explanations = (a, b) -> {
            NeuronScore x = bestOf.get(a), y = bestOf.get(b);
            if (x == null || y == null) {
                return x != null ? -1 : y != null ? 1 : a.compareTo(b);
            }
            return BestExplanation.better(x, y) ? -1 : BestExplanation.better(y, x) ? 1 : 0;
        };
        return Comparator.comparing(NeuronScore::getExplanationId, explanations)
                .thenComparingInt(NeuronDocument::kindOrder)
                .thenComparing(x -> x.getCarriedFrom() == null ? "" : x.getCarriedFrom())
                .thenComparing(NeuronScore::getScoreId);
    }

    /** One checkpoint pair of the neuron's history, as the export and the API give it. */
    public static ObjectNode drift(NeuronDrift d) {
        ObjectNode o = JSON.objectNode();
        o.put("from", d.getKey().getFromCheckpoint());
        o.put("to", d.getKey().getToCheckpoint());
        o.put("from_step", d.getFromStep());
        o.put("to_step", d.getToStep());
        o.put("series_id", d.getKey().getSeriesId());
        o.put("activation_drift", d.getActivationDrift());
        o.put("activation_drift_undefined", d.getActivationDriftUndefined());
        o.put("random_windows", d.getRandomWindows());
        o.put("top_window_overlap", d.getTopWindowOverlap());
        o.put("carried_correlation", d.getCarriedCorrelation());
        o.put("score_delta", d.getScoreDelta());
        o.put("from_best", d.getFromBest());
        o.put("to_best", d.getToBest());
        o.put("from_explanation", d.getFromExplanation());
        o.put("to_explanation", d.getToExplanation());
        return o;
    }

    /** The kind's place in {@link Identities#SCORER_KINDS}; an unknown kind after them. */
    private static int kindOrder(NeuronScore score) {
        int i = Identities.SCORER_KINDS.indexOf(score.getScorerKind());
        return i < 0 ? Identities.SCORER_KINDS.size() : i;
    }

    public static ObjectNode key(NeuronKey key) {
        ObjectNode k = JSON.objectNode();
        k.put("model", key.getModel());
        k.put("checkpoint", key.getCheckpoint());
        k.put("layer", key.getLayer());
        k.put("neuron", key.getNeuron());
        return k;
    }

    /**
     * One score: what was scored (explanation, its explainer method), how (scorer kind, simulator or
     * judge method), the figures of its kind, and the prompt tokens of the explainer and of the
     * simulator or judge. Simulation: the correlation fields and undefined_scores. Detection and
     * fuzzing: balanced_accuracy, auroc (null without the judge's probabilities or with one class)
     * and every judgement with its truth, from which both recompute; no correlation fields, which
     * would read as measured zeros.
     */
    public static ObjectNode score(NeuronScore score) {
        ObjectNode o = JSON.objectNode();
        o.set("neuron", key(score.getNeuron()));
        o.put("score_id", score.getScoreId());
        o.put("run_id", score.getRunId());
        o.put("scorer_kind", score.getScorerKind());
        o.put("carried_from", score.getCarriedFrom());
        o.put("explanation_id", score.getExplanationId());
        o.put("explanation_text", score.getExplanationText());
        o.put("explainer_method", score.getExplainerMethod());
        o.put("simulator_method", score.getSimulatorMethod());
        if (ExplanationScorer.judged(score.getScorerKind())) {
            o.put("balanced_accuracy", score.getBalancedAccuracy());
            o.put("auroc", score.getAuroc());
            ArrayNode js = o.putArray("judgements");
            for (JudgedExcerpt j : score.getJudgements()) {
                ObjectNode jo = js.addObject().put("window_index", j.getWindowIndex());
                j.getMarked().forEach(jo.putArray("marked")::add);
                jo.put("truth", j.getTruth()).put("says_yes", j.getSaysYes()).put("yes_probability", j.getYesProbability());
            }
        } else {
            o.put("correlation", score.getCorrelation());
            o.put("top_correlation", score.getTopCorrelation());
            o.put("random_correlation", score.getRandomCorrelation());
            o.put("rsquared", score.getRsquared());
            o.put("absolute_dev_explained", score.getAbsoluteDevExplained());
            ArrayNode u = o.putArray("undefined_scores");
            score.getUndefinedScores().forEach(u::add);
        }
        o.put("top_windows", score.getTopWindows());
        o.put("random_windows", score.getRandomWindows());
        o.put("tokens", score.getTokens());
        o.put("explainer_prompt_tokens", score.getExplainerPromptTokens());
        o.put("simulation_prompt_tokens", score.getSimulationPromptTokens());
        o.put("scored_at", score.getScoredAt().toString());
        return o;
    }

    private static ObjectNode window(ActivationWindow w, String split) {
        ObjectNode o = JSON.objectNode();
        o.put("window_index", w.getWindowIndex());
        o.put("kind", w.getKind().name());
        o.put("split", split);
        o.put("max_activation", w.getMaxActivation());
        ArrayNode t = o.putArray("tokens");
        w.getTokens().forEach(t::add);
        ArrayNode a = o.putArray("activations");
        w.getActivations().forEach(a::add);
        return o;
    }
}
