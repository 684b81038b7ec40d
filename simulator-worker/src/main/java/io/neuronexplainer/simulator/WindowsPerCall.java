package io.neuronexplainer.simulator;

import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.avro.Schema;

/**
 * Simulates a request's windows a few at a time, one LLM call per group, each with the whole
 * few-shot prefix: with 1, the reference's method (each window in its own prompt, so one window's
 * tokens never inform another's predictions); with more, fewer calls and fewer prompt tokens.
 * The method name says how many ("all": every window of a neuron in one call), so scores of
 * different groupings are never compared as one. A neuron's calls are sent together: a worker's
 * LLM calls in flight are its --max-in-flight times the calls per neuron. An empty window needs
 * no call: its prediction is empty.
 */
final class WindowsPerCall implements Simulator {
    /** Every window of a neuron in one call. */
    static final int ALL = Integer.MAX_VALUE;

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
        return inner.method() + "/windows-per-call-" + (perCall == ALL ? "all" : Integer.toString(perCall));
    }

    @Override
    public String model() {
        return inner.model();
    }

    @Override
    public CompletableFuture<SimulatorResult> simulate(SimulationRequest request) {
        List<TokenWindow> windows = request.getWindows();
        if (windows.size() <= perCall && windows.stream().noneMatch(w -> w.getTokens().isEmpty())) {
            return inner.simulate(request);
        }
        // Groups of non-empty windows, in order; empty windows are answered here, in their places.
        List<List<Integer>> groups = new ArrayList<>();
        List<CompletableFuture<SimulatorResult>> parts = new ArrayList<>();
        List<Integer> group = new ArrayList<>();
        for (int w = 0; w <= windows.size(); w++) {
            boolean end = w == windows.size();
            if (!end && !windows.get(w).getTokens().isEmpty()) {
                group.add(w);
            }
            if (!group.isEmpty() && (end || group.size() == perCall)) {
                List<TokenWindow> part = group.stream().map(windows::get).toList();
                parts.add(inner.simulate(withWindows(request, part)));
                groups.add(group);
                group = new ArrayList<>();
            }
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<List<Float>> predicted = new ArrayList<>(java.util.Collections.nCopies(windows.size(), List.<Float>of()));
            int prompt = 0;
            int completion = 0;
            for (int g = 0; g < parts.size(); g++) {
                SimulatorResult r = parts.get(g).join();
                if (r.predicted().size() != groups.get(g).size()) {
                    throw new IllegalStateException(inner.method() + " returned " + r.predicted().size() + " windows of predictions for "
                            + groups.get(g).size());
                }
                for (int i = 0; i < groups.get(g).size(); i++) {
                    predicted.set(groups.get(g).get(i), r.predicted().get(i));
                }
                prompt += r.promptTokens();
                completion += r.completionTokens();
            }
            return new SimulatorResult(predicted, prompt, completion);
        });
    }

    /**
     * The request with other windows and every other field shared, not copied: Avro's
     * {@code newBuilder(request)} deep-copies every window's tokens, which with one window per call
     * cost the worker more than building the prompts.
     */
    static SimulationRequest withWindows(SimulationRequest request, List<TokenWindow> windows) {
        SimulationRequest part = new SimulationRequest();
        for (Schema.Field field : SimulationRequest.getClassSchema().getFields()) {
            part.put(field.pos(), request.get(field.pos()));
        }
        part.setWindows(windows);
        return part;
    }

    @Override
    public void close() {
        inner.close();
    }
}
