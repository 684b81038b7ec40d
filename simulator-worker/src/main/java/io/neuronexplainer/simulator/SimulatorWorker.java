package io.neuronexplainer.simulator;

import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.llm.CheckpointTokens;
import io.neuronexplainer.llm.LlmException;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.worker.Output;
import io.neuronexplainer.runtime.worker.TransactionalWorker;
import io.neuronexplainer.runtime.worker.WorkerSettings;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.Judgement;
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
 * The simulator stage on Kafka: each SimulationRequest becomes a Simulation, exactly once and
 * once per identity: a request delivered again is not answered again. By the request's
 * scorer_kind: simulation (or none, as in older records) is a predicted activation for every
 * token of every window (identity: explanation, simulator method and model); detection and
 * fuzzing are a {@link Judge}'s yes or no per excerpt (identity: explanation, kind, judge method
 * and model, run). An answer whose shape does not match the request (windows, or excerpts in
 * order), a judge kind without excerpts and an unknown kind are dead letters, never a silently
 * misaligned score.
 */
public final class SimulatorWorker {
    public static final String STAGE = "simulator-worker";

    private SimulatorWorker() {}

    /**
     * A worker whose detection and fuzzing requests are judged offline ({@link TokenPatternJudge},
     * the default backend's judge; its method name says so in every judgement). Use
     * {@link #create(KafkaClients, WorkerSettings, Simulator, Judge, MeterRegistry)} to choose the judge.
     */
    public static TransactionalWorker<NeuronKey, SimulationRequest> create(KafkaClients clients, WorkerSettings settings,
                                                                           Simulator simulator, MeterRegistry meters) {
        return create(clients, settings, simulator, new TokenPatternJudge(), meters);
    }

    /** A worker answering simulation requests with {@code simulator}, detection and fuzzing with {@code judge}. */
    public static TransactionalWorker<NeuronKey, SimulationRequest> create(KafkaClients clients, WorkerSettings settings,
                                                                           Simulator simulator, Judge judge,
                                                                           MeterRegistry meters) {
        return new TransactionalWorker<>(clients, settings,
                AvroDeserializer.of(clients.registry(), NeuronKey.class),
                AvroDeserializer.of(clients.registry(), SimulationRequest.class),
                (key, request) -> process(simulator, judge, request, meters),
                SimulatorWorker::attempts, request -> identity(request, simulator, judge), meters);
    }

    /**
     * The identity of the Simulation made of {@code request}. A simulation's: explanation,
     * simulator method and model (an explanation carried to a later checkpoint's windows is
     * another simulation of it, one per run it is carried to). A judgement's: explanation, kind,
     * judge method and model, run and carried-from checkpoint (or ""), always with the run, since
     * its excerpts are drawn from the run's windows. An unknown kind fails here (a dead letter).
     */
    static String identity(SimulationRequest request, Simulator simulator, Judge judge) {
        String kind = kind(request);
        if (kind.equals(Identities.SIMULATION_SCORER)) {
            return request.getCarriedFrom() == null
                    ? Identities.hash(request.getExplanationId(), simulator.method(), simulator.model())
                    : Identities.hash(request.getExplanationId(), simulator.method(), simulator.model(), request.getRunId(),
                            request.getCarriedFrom());
        }
        return Identities.hash(request.getExplanationId(), kind, judge.method(), judge.model(), request.getRunId(),
                request.getCarriedFrom() == null ? "" : request.getCarriedFrom());
    }

    /**
     * The request's scorer kind, one of {@link Identities#SCORER_KINDS}; empty (or absent) is
     * simulation. Any other is an IllegalArgumentException: a record this pool cannot answer.
     */
    static String kind(SimulationRequest request) {
        String kind = request.getScorerKind();
        if (kind == null || kind.isEmpty()) {
            return Identities.SIMULATION_SCORER;
        }
        if (!Identities.SCORER_KINDS.contains(kind)) {
            throw new IllegalArgumentException("unknown scorer_kind '" + kind + "': the simulator pool answers "
                    + String.join(", ", Identities.SCORER_KINDS));
        }
        return kind;
    }

    /** Default settings of this stage: group {@code simulator-worker} reading {@code simulation-requests}. */
    public static WorkerSettings settings(int maxInFlight) {
        return WorkerSettings.of(STAGE, Topics.SIMULATION_REQUESTS, STAGE, maxInFlight);
    }

    /**
     * One record's work, by its kind: simulate or judge, count what it cost the neuron's
     * checkpoint, then build the output (which checks its shape).
     */
    static CompletableFuture<List<Output>> process(Simulator simulator, Judge judge, SimulationRequest request,
                                                   MeterRegistry meters) {
        String kind;
        try {
            kind = kind(request);
            if (!kind.equals(Identities.SIMULATION_SCORER)) {
                checkExcerpts(request, kind);
            }
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (kind.equals(Identities.SIMULATION_SCORER)) {
            return simulate(simulator, request, meters);
        }
        if (request.getExcerpts().isEmpty()) {
            // Nothing to judge (no top window could be marked both ways, say): no call, and a record with no
            // judgements, whose score the scorer writes as undefined, so the neuron still has one of this kind.
            return CompletableFuture.completedFuture(List.of(new Output(Topics.NEURON_SIMULATIONS, request.getNeuron(),
                    judged(request, kind, new JudgeResult(List.of(), 0, 0), judge))));
        }
        return judge.judge(request).thenApply(result -> {
            if (result != null) {
                CheckpointTokens.count(meters, SimulatorBackendOptions.JUDGE_LLM_STAGE, request.getNeuron(),
                        result.promptTokens(), result.completionTokens());
            }
            return List.of(new Output(Topics.NEURON_SIMULATIONS, request.getNeuron(), judged(request, kind, result, judge)));
        });
    }

    /** A simulation request's work: simulate, count what it cost the neuron's checkpoint, then build the output. */
    static CompletableFuture<List<Output>> simulate(Simulator simulator, SimulationRequest request, MeterRegistry meters) {
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
                request.getRunId(), request.getCarriedFrom(), request.getExplainerPromptTokens(), request.getExplainerMethod(), Identities.SIMULATION_SCORER, List.of());
    }

    /**
     * A fuzzing excerpt's marks must be positions of its tokens, ascending: else an
     * IllegalArgumentException (a bad record).
     */
    static void checkExcerpts(SimulationRequest request, String kind) {
        List<Excerpt> excerpts = request.getExcerpts();
        if (!kind.equals(Identities.FUZZING_SCORER)) {
            return;
        }
        for (int i = 0; i < excerpts.size(); i++) {
            Excerpt e = excerpts.get(i);
            int previous = -1;
            for (Integer at : e.getMarked()) {
                if (at == null || at <= previous || at >= e.getTokens().size()) {
                    throw new IllegalArgumentException("fuzzing excerpt " + i + " (window " + e.getWindowIndex() + ") marks "
                            + e.getMarked() + ": not ascending positions among its " + e.getTokens().size() + " tokens");
                }
                previous = at;
            }
        }
    }

    /**
     * The Simulation record of a judgement, after checking there is one judgement per excerpt,
     * in order, echoing its window and marks, with a probability in [0, 1] or none.
     */
    static Simulation judged(SimulationRequest request, String kind, JudgeResult result, Judge judge) {
        List<Excerpt> excerpts = request.getExcerpts();
        List<Judgement> judgements = result == null ? null : result.judgements();
        if (judgements == null || judgements.size() != excerpts.size()) {
            throw new IllegalStateException(judge.method() + " returned " + (judgements == null ? 0 : judgements.size())
                    + " judgements; the request has " + excerpts.size() + " excerpts");
        }
        for (int i = 0; i < excerpts.size(); i++) {
            Excerpt e = excerpts.get(i);
            Judgement j = judgements.get(i);
            if (j == null || j.getWindowIndex() != e.getWindowIndex() || !java.util.Objects.equals(j.getMarked(), e.getMarked())) {
                throw new IllegalStateException(judge.method() + " returned judgement " + i + " for "
                        + (j == null ? "nothing" : "window " + j.getWindowIndex() + " marked " + j.getMarked())
                        + "; excerpt " + i + " is window " + e.getWindowIndex() + " marked " + e.getMarked());
            }
            Double p = j.getYesProbability();
            if (p != null && !(p >= 0 && p <= 1)) {
                throw new IllegalStateException(judge.method() + " returned yes_probability " + p + " for excerpt " + i);
            }
        }
        return new Simulation(request.getNeuron(), request.getExplanationId(), request.getExplanationText(),
                judge.method(), judge.model(), List.of(), result.promptTokens(), result.completionTokens(), Instant.now(),
                request.getRunId(), request.getCarriedFrom(), request.getExplainerPromptTokens(), request.getExplainerMethod(),
                kind, List.copyOf(judgements));
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
