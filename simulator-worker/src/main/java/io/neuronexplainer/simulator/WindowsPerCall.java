package io.neuronexplainer.simulator;

import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Simulates a request's windows a few at a time, one LLM call per group, each with the whole
 * few-shot prefix: with 1, the reference's method (each window in its own prompt, so one window's
 * tokens never inform another's predictions); with more, fewer calls and fewer prompt tokens.
 * The method name says how many, so scores of different groupings are never compared as one.
 */
final class WindowsPerCall implements Simulator {
    private final Simulator inner;
    private final int perCall;

    WindowsPerCall(Simulator inner, int perCall) {
        if (perCall < 1) {
            throw new IllegalArgumentException("--simulator-windows-per-call must be at least 1, got " + perCall);
        }
        this.inner = inner;
        this.perCall = perCall;
    }

    @Override
    public String method() {
        return inner.method() + "/windows-per-call-" + perCall;
    }

    @Override
    public String model() {
        return inner.model();
    }

    @Override
    public CompletableFuture<SimulatorResult> simulate(SimulationRequest request) {
        List<TokenWindow> windows = request.getWindows();
        if (windows.size() <= perCall) {
            return inner.simulate(request);
        }
        List<CompletableFuture<SimulatorResult>> parts = new ArrayList<>();
        for (int from = 0; from < windows.size(); from += perCall) {
            SimulationRequest part = SimulationRequest.newBuilder(request)
                    .setWindows(List.copyOf(windows.subList(from, Math.min(windows.size(), from + perCall)))).build();
            parts.add(inner.simulate(part));
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<List<Float>> predicted = new ArrayList<>();
            int prompt = 0;
            int completion = 0;
            for (CompletableFuture<SimulatorResult> p : parts) {
                SimulatorResult r = p.join();
                predicted.addAll(r.predicted());
                prompt += r.promptTokens();
                completion += r.completionTokens();
            }
            return new SimulatorResult(predicted, prompt, completion);
        });
    }

    @Override
    public void close() {
        inner.close();
    }
}
