package io.neuronexplainer.scorer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.SimulatedWindow;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.WindowMax;
import java.util.Comparator;
import java.util.List;

/**
 * One neuron as JSON, for the HTTP API, the viewer and the export: its key, best explanation,
 * every score, and its windows under OpenAI neuron-explainer's names
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
        // A carried score measures an earlier checkpoint's explanation here: not this checkpoint's own.
        NeuronScore best = scores.stream().filter(x -> x.getCarriedFrom() == null)
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
        scores.stream().sorted(Comparator.comparingDouble(NeuronScore::getCorrelation).reversed())
                .forEach(score -> s.add(score(score)));
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
            ArrayNode ws = o.putArray("windows");
            for (SimulatedWindow w : sim.getWindows()) {
                ObjectNode wo = ws.addObject();
                wo.put("kind", w.getKind().name());
                wo.put("window_index", w.getWindowIndex());
                ArrayNode p = wo.putArray("predicted");
                w.getPredicted().forEach(p::add);
            }
        }
        return doc;
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

    public static ObjectNode key(NeuronKey key) {
        ObjectNode k = JSON.objectNode();
        k.put("model", key.getModel());
        k.put("checkpoint", key.getCheckpoint());
        k.put("layer", key.getLayer());
        k.put("neuron", key.getNeuron());
        return k;
    }

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
        o.put("correlation", score.getCorrelation());
        o.put("top_correlation", score.getTopCorrelation());
        o.put("random_correlation", score.getRandomCorrelation());
        o.put("rsquared", score.getRsquared());
        o.put("absolute_dev_explained", score.getAbsoluteDevExplained());
        ArrayNode u = o.putArray("undefined_scores");
        score.getUndefinedScores().forEach(u::add);
        o.put("top_windows", score.getTopWindows());
        o.put("random_windows", score.getRandomWindows());
        o.put("tokens", score.getTokens());
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
