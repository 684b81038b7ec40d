package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.runtime.worker.FaultClass;
import io.neuronexplainer.runtime.worker.Faults;
import io.neuronexplainer.runtime.worker.Output;
import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.Judgement;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The worker's detection and fuzzing path without a broker: dispatch by kind, shape checks, identities. */
class SimulatorWorkerJudgeTest {
    static final String EXPLANATION = " the tokens \"cat\" (9); elsewhere about 0.2.";

    static SimulationRequest request(String kind, String carriedFrom, Excerpt... excerpts) {
        return SimulationRequest.newBuilder(SampleRecords.simulationRequest(SampleRecords.key(2, 7)))
                .setExplanationText(EXPLANATION).setScorerKind(kind).setCarriedFrom(carriedFrom)
                .setExcerpts(List.of(excerpts)).build();
    }

    static final Excerpt CAT = new Excerpt(11L, List.of(" The", " cat", " sat"), List.of(1));
    static final Excerpt DOG = new Excerpt(40L, List.of(" A", " dog"), List.of(0));

    /** A judge answering with whatever {@code answer} makes of the request, spending 70 + 4 tokens. */
    record FixedJudge(Function<SimulationRequest, List<Judgement>> answer) implements Judge {
        @Override
        public String method() {
            return "test-judge";
        }

        @Override
        public String model() {
            return "judge-model";
        }

        @Override
        public CompletableFuture<JudgeResult> judge(SimulationRequest request) {
            return CompletableFuture.supplyAsync(() -> new JudgeResult(answer.apply(request), 70, 4));
        }
    }

    static Simulation run(Judge judge, SimulationRequest request, SimpleMeterRegistry meters) throws Exception {
        List<Output> out = SimulatorWorker.process(new SimulatorWorkerTest.TestSimulator(), judge, request, meters)
                .get(10, TimeUnit.SECONDS);
        assertEquals(1, out.size());
        assertEquals(Topics.NEURON_SIMULATIONS, out.get(0).topic());
        assertEquals(request.getNeuron(), out.get(0).key());
        Simulation s = (Simulation) out.get(0).value();
        // Written as the topic's records are: it must encode, null probabilities included.
        assertEquals(s, Simulation.getDecoder().decode(Simulation.getEncoder().encode(s)));
        return s;
    }

    /** The failure {@code request} ends with, after checking the worker would dead-letter it. */
    static Throwable deadLetter(Judge judge, SimulationRequest request) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> SimulatorWorker.process(
                new SimulatorWorkerTest.TestSimulator(), judge, request, new SimpleMeterRegistry()).get(10, TimeUnit.SECONDS));
        assertEquals(FaultClass.BAD_RECORD, Faults.classify(e.getCause()).kind(), e.getCause().toString());
        return e.getCause();
    }

    @Test
    void detectionAndFuzzingRequestsAreJudgedIntoASimulationWithJudgementsAndNoWindows() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        for (String kind : List.of(Identities.DETECTION_SCORER, Identities.FUZZING_SCORER)) {
            SimulationRequest request = request(kind, "ckpt-0", CAT, DOG);
            Simulation s = run(new TokenPatternJudge(), request, meters);
            assertEquals(kind, s.getScorerKind());
            assertEquals(List.of(), s.getWindows(), "no predictions: the request's windows are not simulated");
            assertEquals(List.of(true, false), s.getJudgements().stream().map(Judgement::getSaysYes).toList(), kind);
            assertEquals(List.of(11L, 40L), s.getJudgements().stream().map(Judgement::getWindowIndex).toList());
            assertEquals(List.of(List.of(1), List.of(0)), s.getJudgements().stream().map(Judgement::getMarked).toList());
            assertEquals(TokenPatternJudge.METHOD, s.getSimulatorMethod());
            assertEquals("none", s.getSimulatorModel());
            assertEquals(request.getExplanationId(), s.getExplanationId());
            assertEquals(EXPLANATION, s.getExplanationText());
            assertEquals("run-1", s.getRunId());
            assertEquals("ckpt-0", s.getCarriedFrom());
            assertEquals(120, s.getExplainerPromptTokens());
            assertEquals(request.getExplainerMethod(), s.getExplainerMethod());
        }
        SimulationRequest request = request(Identities.DETECTION_SCORER, null, CAT);
        Simulation s = run(new FixedJudge(r -> List.of(new Judgement(11L, List.of(1), true, null))), request, meters);
        assertEquals("test-judge", s.getSimulatorMethod());
        assertEquals("judge-model", s.getSimulatorModel());
        assertEquals(70, s.getPromptTokens());
        assertEquals(4, s.getCompletionTokens());
        assertEquals(70.0, meters.get("llm.checkpoint.tokens").tag("stage", SimulatorBackendOptions.JUDGE_LLM_STAGE)
                .tag("kind", "prompt").counter().count(), "the judge's tokens under its own stage");
    }

    @Test
    void simulationRequestsStillGoToTheSimulatorAnEmptyKindToo() throws Exception {
        Judge never = new FixedJudge(r -> {
            throw new AssertionError("a simulation request reached the judge");
        });
        for (String kind : List.of(Identities.SIMULATION_SCORER, "")) {
            SimulationRequest request = SimulationRequest.newBuilder(SampleRecords.simulationRequest(SampleRecords.key(2, 7)))
                    .setScorerKind(kind).build();
            Simulation s = run(never, request, new SimpleMeterRegistry());
            assertEquals(Identities.SIMULATION_SCORER, s.getScorerKind());
            assertEquals("test-positions", s.getSimulatorMethod());
            assertEquals(2, s.getWindows().size());
            assertEquals(List.of(), s.getJudgements());
        }
    }

    @Test
    void aRequestWithNothingToJudgeIsAnsweredWithNoJudgementsAndNoCall() throws Exception {
        Judge failing = new FixedJudge(r -> {
            throw new AssertionError("no call for an empty request");
        });
        Simulation s = run(failing, request(Identities.FUZZING_SCORER, null), new SimpleMeterRegistry());
        assertEquals(Identities.FUZZING_SCORER, s.getScorerKind());
        assertEquals(List.of(), s.getJudgements());
        assertEquals(0, s.getPromptTokens());
    }

    @Test
    void badRequestsAndMisshapenJudgementsAreDeadLetters() {
        Judge echo = new TokenPatternJudge();
        Throwable t = deadLetter(echo, request("ranking", null, CAT));
        assertInstanceOf(IllegalArgumentException.class, t);
        assertEquals("unknown scorer_kind 'ranking': the simulator pool answers simulation, detection, fuzzing", t.getMessage());
        t = deadLetter(echo, request(Identities.FUZZING_SCORER, null, new Excerpt(11L, List.of(" a", " b"), List.of(2))));
        assertTrue(t.getMessage().contains("fuzzing excerpt 0 (window 11) marks [2]"), t.getMessage());
        t = deadLetter(echo, request(Identities.FUZZING_SCORER, null, new Excerpt(11L, List.of(" a", " b"), List.of(1, 0))));
        assertTrue(t.getMessage().contains("not ascending"), t.getMessage());

        SimulationRequest two = request(Identities.FUZZING_SCORER, null, CAT, DOG);
        t = deadLetter(new FixedJudge(r -> List.of(new Judgement(11L, List.of(1), true, null))), two);
        assertInstanceOf(IllegalStateException.class, t);
        assertEquals("test-judge returned 1 judgements; the request has 2 excerpts", t.getMessage());
        t = deadLetter(new FixedJudge(r -> List.of(new Judgement(40L, List.of(0), true, null),
                new Judgement(11L, List.of(1), true, null))), two);
        assertTrue(t.getMessage().contains("returned judgement 0 for window 40 marked [0]; excerpt 0 is window 11 marked [1]"),
                t.getMessage());
        t = deadLetter(new FixedJudge(r -> List.of(new Judgement(11L, List.of(1, 2), true, null),
                new Judgement(40L, List.of(0), true, null))), two);
        assertTrue(t.getMessage().contains("returned judgement 0 for window 11 marked [1, 2]"), t.getMessage());
        t = deadLetter(new FixedJudge(r -> List.of(new Judgement(11L, List.of(1), true, 1.5),
                new Judgement(40L, List.of(0), false, 0.0))), two);
        assertEquals("test-judge returned yes_probability 1.5 for excerpt 0", t.getMessage());
        t = deadLetter(new FixedJudge(r -> {
            List<Judgement> withNull = new ArrayList<>();
            withNull.add(null);
            withNull.add(new Judgement(40L, List.of(0), false, null));
            return withNull;
        }), two);
        assertTrue(t.getMessage().contains("returned judgement 0 for nothing"), t.getMessage());
    }

    @Test
    void aJudgementsIdentityNamesItsKindJudgeAndRunAndASimulationsIsUnchanged() {
        Simulator sim = new SimulatorWorkerTest.TestSimulator();
        Judge judge = new TokenPatternJudge();
        SimulationRequest simulation = SampleRecords.simulationRequest(SampleRecords.key(2, 7));
        assertEquals(Identities.hash(simulation.getExplanationId(), "test-positions", "none"),
                SimulatorWorker.identity(simulation, sim, judge));
        SimulationRequest carried = SimulationRequest.newBuilder(simulation).setCarriedFrom("ckpt-0").build();
        assertEquals(Identities.hash(simulation.getExplanationId(), "test-positions", "none", "run-1", "ckpt-0"),
                SimulatorWorker.identity(carried, sim, judge));

        SimulationRequest detection = request(Identities.DETECTION_SCORER, null, CAT);
        assertEquals(Identities.hash(detection.getExplanationId(), "detection", TokenPatternJudge.METHOD, "none", "run-1", ""),
                SimulatorWorker.identity(detection, sim, judge));
        String fuzzing = SimulatorWorker.identity(request(Identities.FUZZING_SCORER, null, CAT), sim, judge);
        assertNotEquals(SimulatorWorker.identity(detection, sim, judge), fuzzing);
        assertNotEquals(SimulatorWorker.identity(detection, sim, judge),
                SimulatorWorker.identity(SimulationRequest.newBuilder(detection).setRunId("run-2").build(), sim, judge));
        assertNotEquals(SimulatorWorker.identity(detection, sim, judge),
                SimulatorWorker.identity(SimulationRequest.newBuilder(detection).setCarriedFrom("ckpt-0").build(), sim, judge));
        assertNotEquals(SimulatorWorker.identity(detection, sim, judge),
                SimulatorWorker.identity(detection, sim, new FixedJudge(r -> List.of())));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SimulatorWorker.identity(request("ranking", null, CAT), sim, judge));
        assertTrue(e.getMessage().startsWith("unknown scorer_kind 'ranking'"), e.getMessage());
    }
}
