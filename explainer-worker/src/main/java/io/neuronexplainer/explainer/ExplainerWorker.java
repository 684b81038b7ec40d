package io.neuronexplainer.explainer;

import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.llm.CheckpointTokens;
import io.neuronexplainer.llm.LlmException;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.worker.Output;
import io.neuronexplainer.runtime.worker.TransactionalWorker;
import io.neuronexplainer.runtime.worker.WorkerSettings;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.schemas.WindowKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The explainer stage on Kafka: each NeuronActivations record becomes an Explanation and a
 * SimulationRequest per scorer kind (the scoring windows' tokens, or the judged scorers' excerpts,
 * never their activations), exactly once and
 * once per explanation id: the same neuron and run delivered again is not explained again.
 */
public final class ExplainerWorker {
    public static final String STAGE = "explainer-worker";

    private ExplainerWorker() {}

    public static TransactionalWorker<ActivationsKey, NeuronActivations> create(KafkaClients clients, WorkerSettings settings,
                                                                           Explainer explainer, MeterRegistry meters) {
        return create(clients, settings, explainer, Scorers.DEFAULT, meters);
    }

    /** As above, sending each explanation to the given scorers (one request per kind). */
    public static TransactionalWorker<ActivationsKey, NeuronActivations> create(KafkaClients clients, WorkerSettings settings,
                                                                           Explainer explainer, Scorers scorers,
                                                                           MeterRegistry meters) {
        return new TransactionalWorker<>(clients, settings,
                AvroDeserializer.of(clients.registry(), ActivationsKey.class),
                AvroDeserializer.of(clients.registry(), NeuronActivations.class),
                (key, neuron) -> process(explainer, scorers, neuron, meters),
                ExplainerWorker::attempts, neuron -> ExplanationId.of(neuron, explainer), meters);
    }

    /** Default settings of this stage: group {@code explainer-worker} reading {@code neuron-activations}. */
    public static WorkerSettings settings(int maxInFlight) {
        return WorkerSettings.of(STAGE, Topics.NEURON_ACTIVATIONS, STAGE, maxInFlight);
    }

    /**
     * With explanations reused across checkpoints: the group reads {@code explanation-requests}, the
     * activations of the neurons the scorer found changed (same records, same keys).
     */
    public static WorkerSettings reuseSettings(int maxInFlight) {
        return WorkerSettings.of(STAGE, Topics.EXPLANATION_REQUESTS, STAGE, maxInFlight);
    }

    static List<Output> outputs(NeuronActivations neuron, ExplainerResult result, Explainer explainer) {
        return outputs(neuron, result, explainer, Scorers.DEFAULT);
    }

    /**
     * The explanation and one request per scorer kind. A judged kind with nothing to judge (no top
     * window that can be marked both ways, say) is still sent, with no excerpts: it needs no call, and
     * its score says the figure is undefined, so every neuron has one score per kind.
     */
    static List<Output> outputs(NeuronActivations neuron, ExplainerResult result, Explainer explainer, Scorers scorers) {
        if (result == null || result.text() == null || result.text().isBlank()) {
            throw new IllegalStateException(explainer.method() + " returned an empty explanation");
        }
        if (!explainer.promptVersion().equals(result.promptVersion())) {
            // The id was settled before the call from the declared version; a different one would break it.
            throw new IllegalStateException(explainer.method() + " wrote with prompt version " + result.promptVersion()
                    + " but declares " + explainer.promptVersion());
        }
        String id = ExplanationId.of(neuron, explainer);
        NeuronKey key = neuron.getNeuron();
        Explanation explanation = new Explanation(key, id, result.text(), explainer.method(), explainer.model(),
                result.promptVersion(), result.promptTokens(), result.completionTokens(), Instant.now(), neuron.getRun().getRunId());
        String explainerMethod = explainer.method() + "/" + explainer.promptVersion();
        List<Output> out = new ArrayList<>();
        out.add(new Output(Topics.NEURON_EXPLANATIONS, key, explanation));
        for (String kind : scorers.kinds()) {
            out.add(new Output(Topics.SIMULATION_REQUESTS, key,
                    request(kind, neuron, id, result.text(), result.promptTokens(), explainerMethod)));
        }
        return out;
    }

    /** The request of one scorer kind for an explanation of {@code neuron}. */
    public static SimulationRequest request(String kind, NeuronActivations neuron, String explanationId, String text,
                                            int explainerPromptTokens, String explainerMethod) {
        return switch (kind) {
            case Identities.DETECTION_SCORER -> DetectionRequest.of(neuron, explanationId, text, explainerPromptTokens, explainerMethod);
            case Identities.FUZZING_SCORER -> FuzzingRequest.of(neuron, explanationId, text, explainerPromptTokens, explainerMethod);
            default -> simulationRequest(neuron, explanationId, text, explainerPromptTokens, explainerMethod);
        };
    }

    /**
     * The scoring top windows then the scoring random windows, tokens only: the simulator must not see
     * activations; with what writing the explanation took, so the scorer can count a neuron's LLM tokens,
     * and the explainer's method and prompt version, so its scores name them.
     */
    public static SimulationRequest simulationRequest(NeuronActivations neuron, String explanationId, String text,
                                                      int explainerPromptTokens, String explainerMethod) {
        List<TokenWindow> windows = new ArrayList<>();
        for (ActivationWindow w : neuron.getScoringTopWindows()) {
            windows.add(new TokenWindow(w.getWindowIndex(), WindowKind.TOP, List.copyOf(w.getTokens())));
        }
        for (ActivationWindow w : neuron.getScoringRandomWindows()) {
            windows.add(new TokenWindow(w.getWindowIndex(), WindowKind.RANDOM, List.copyOf(w.getTokens())));
        }
        return new SimulationRequest(neuron.getNeuron(), explanationId, text, windows, neuron.getRun().getRunId(), null,
                explainerPromptTokens, explainerMethod, Identities.SIMULATION_SCORER, List.of());
    }

    /** Tries an LLM call took before it failed for good; 1 for failures that are not LLM calls. */
    static int attempts(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof LlmException e) {
                return e.attempts();
            }
        }
        return 1;
    }

    /** One record's work: explain, count what it cost the neuron's checkpoint, then build both outputs. */
    static CompletableFuture<List<Output>> process(Explainer explainer, Scorers scorers, NeuronActivations neuron,
                                                   MeterRegistry meters) {
        return explainer.explain(neuron).thenApply(result -> {
            if (result != null) {
                CheckpointTokens.count(meters, ExplainerBackendOptions.LLM_STAGE, neuron.getNeuron(),
                        result.promptTokens(), result.completionTokens());
            }
            return outputs(neuron, result, explainer, scorers);
        });
    }
}
