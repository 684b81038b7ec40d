package io.neuronexplainer.simulator;

import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.llm.CheckpointTokens;
import io.neuronexplainer.llm.LlmException;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.worker.Output;
import io.neuronexplainer.runtime.worker.TransactionalWorker;
import io.neuronexplainer.runtime.worker.WorkerSettings;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.SimulatedWindow;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import io.neuronexplainer.schemas.Topics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The simulator stage on Kafka: each SimulationRequest becomes a Simulation (a predicted
 * activation for every token of every window), exactly once and once per simulation identity
 * (explanation, simulator method and model): a request delivered again is not simulated again.
 * A prediction whose shape does not match the request's windows is a dead letter, never a
 * silently misaligned score.
 */
public final class SimulatorWorker {
    public static final String STAGE = "simulator-worker";

    private SimulatorWorker() {}

    public static TransactionalWorker<NeuronKey, SimulationRequest> create(KafkaClients clients, WorkerSettings settings,
                                                                           Simulator simulator, MeterRegistry meters) {
        return new TransactionalWorker<>(clients, settings,
                AvroDeserializer.of(clients.registry(), NeuronKey.class),
                AvroDeserializer.of(clients.registry(), SimulationRequest.class),
                (key, request) -> process(simulator, request, meters),
                SimulatorWorker::attempts, request -> identity(request, simulator), meters);
    }

    /**
     * The identity of the Simulation {@code simulator} makes of {@code request}; an explanation
     * carried to a later checkpoint's windows is another simulation of it, one per run it is carried to.
     */
    static String identity(SimulationRequest request, Simulator simulator) {
        return request.getCarriedFrom() == null
                ? Identities.hash(request.getExplanationId(), simulator.method(), simulator.model())
                : Identities.hash(request.getExplanationId(), simulator.method(), simulator.model(), request.getRunId(),
                        request.getCarriedFrom());
    }

    /** Default settings of this stage: group {@code simulator-worker} reading {@code simulation-requests}. */
    public static WorkerSettings settings(int maxInFlight) {
        return WorkerSettings.of(STAGE, Topics.SIMULATION_REQUESTS, STAGE, maxInFlight);
    }

    /** One record's work: simulate, count what it cost the neuron's checkpoint, then build the output. */
    static CompletableFuture<List<Output>> process(Simulator simulator, SimulationRequest request, MeterRegistry meters) {
        return simulator.simulate(request).thenApply(result -> {
            if (result != null) {
                CheckpointTokens.count(meters, SimulatorBackendOptions.LLM_STAGE, request.getNeuron(),
                        result.promptTokens(), result.completionTokens());
            }
            return List.of(new Output(Topics.NEURON_SIMULATIONS, request.getNeuron(), simulation(request, result, simulator)));
        });
    }

    /** The Simulation record, after checking there is one prediction per token of every window. */
    static Simulation simulation(SimulationRequest request, SimulatorResult result, Simulator simulator) {
        List<TokenWindow> windows = request.getWindows();
        if (result == null || result.predicted() == null || result.predicted().size() != windows.size()) {
            throw new IllegalStateException(simulator.method() + " returned predictions for "
                    + (result == null || result.predicted() == null ? 0 : result.predicted().size())
                    + " windows; the request has " + windows.size());
        }
        List<SimulatedWindow> simulated = new ArrayList<>(windows.size());
        for (int i = 0; i < windows.size(); i++) {
            TokenWindow w = windows.get(i);
            List<Float> predicted = result.predicted().get(i);
            if (predicted == null || predicted.size() != w.getTokens().size()) {
                throw new IllegalStateException(simulator.method() + " returned " + (predicted == null ? 0 : predicted.size())
                        + " predictions for window " + i + " (index " + w.getWindowIndex() + ") of " + w.getTokens().size() + " tokens");
            }
            for (Float p : predicted) {
                if (p == null || !Float.isFinite(p)) {
                    throw new IllegalStateException(simulator.method() + " returned a non-finite prediction in window " + i);
                }
            }
            simulated.add(new SimulatedWindow(w.getWindowIndex(), w.getKind(), List.copyOf(predicted)));
        }
        return new Simulation(request.getNeuron(), request.getExplanationId(), request.getExplanationText(),
                simulator.method(), simulator.model(), simulated, result.promptTokens(), result.completionTokens(), Instant.now(),
                request.getRunId(), request.getCarriedFrom(), request.getExplainerPromptTokens(), request.getExplainerMethod(), "simulation", java.util.List.of());
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
}
