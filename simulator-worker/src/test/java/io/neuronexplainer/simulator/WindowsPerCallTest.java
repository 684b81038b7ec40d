package io.neuronexplainer.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.neuronexplainer.runtime.test.SampleRecords;
import io.neuronexplainer.schemas.Excerpt;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import io.neuronexplainer.schemas.WindowKind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class WindowsPerCallTest {
    /** Predicts each token as its window's index, and says how many prompt tokens: 100 per call. */
    static final class Recording implements Simulator {
        final List<List<Long>> calls = Collections.synchronizedList(new ArrayList<>());

        @Override
        public String method() {
            return "inner";
        }

        @Override
        public String model() {
            return "m";
        }

        @Override
        public CompletableFuture<SimulatorResult> simulate(SimulationRequest request) {
            calls.add(request.getWindows().stream().map(TokenWindow::getWindowIndex).toList());
            List<List<Float>> predicted = new ArrayList<>();
            for (TokenWindow w : request.getWindows()) {
                predicted.add(Collections.nCopies(w.getTokens().size(), (float) w.getWindowIndex()));
            }
            return CompletableFuture.completedFuture(new SimulatorResult(predicted, 100, 1));
        }
    }

    static SimulationRequest request(int... sizes) {
        List<TokenWindow> windows = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            windows.add(new TokenWindow((long) i, WindowKind.TOP, Collections.nCopies(sizes[i], " t")));
        }
        return SimulationRequest.newBuilder(SampleRecords.simulationRequest(SampleRecords.key(1, 1))).setWindows(windows).build();
    }

    @Test
    void aGroupsRequestIsTheWholeRequestWithOnlyItsWindowsReplaced() {
        SimulationRequest whole = SimulationRequest.newBuilder(request(3, 2)).setCarriedFrom("ckpt-1")
                .setExcerpts(List.of(new Excerpt(5L, List.of(" x"), List.of(0)))).build();
        SimulationRequest before = SimulationRequest.newBuilder(whole).build();
        List<TokenWindow> part = List.of(whole.getWindows().get(1));
        SimulationRequest group = WindowsPerCall.withWindows(whole, part);
        assertEquals(SimulationRequest.newBuilder(whole).setWindows(part).build(), group, "every other field as the request has it");
        assertEquals(before, whole, "the request itself unchanged");
    }

    @Test
    void oneCallPerGroupOfWindowsPredictionsInTheirPlacesTokensSummed() throws Exception {
        Recording inner = new Recording();
        WindowsPerCall split = new WindowsPerCall(inner, 2);
        SimulatorResult r = split.simulate(request(3, 2, 0, 4, 1)).get();
        assertEquals(List.of(List.of(0L, 1L), List.of(3L, 4L)), inner.calls, "the empty window 2 needs no call");
        assertEquals(List.of(List.of(0f, 0f, 0f), List.of(1f, 1f), List.of(), List.of(3f, 3f, 3f, 3f), List.of(4f)), r.predicted());
        assertEquals(200, r.promptTokens());
        assertEquals(2, r.completionTokens());
        assertEquals("inner/windows-per-call-2", split.method());
    }

    @Test
    void allWindowsInOneCallAndOnePerCall() throws Exception {
        Recording all = new Recording();
        new WindowsPerCall(all, WindowsPerCall.ALL).simulate(request(2, 2, 2)).get();
        assertEquals(List.of(List.of(0L, 1L, 2L)), all.calls);
        assertEquals("inner/windows-per-call-all", new WindowsPerCall(all, WindowsPerCall.ALL).method());
        Recording one = new Recording();
        new WindowsPerCall(one, 1).simulate(request(2, 2, 2)).get();
        assertEquals(3, one.calls.size());
        assertThrows(IllegalArgumentException.class, () -> new WindowsPerCall(one, 0));
    }
}
