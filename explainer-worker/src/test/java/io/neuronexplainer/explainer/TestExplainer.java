package io.neuronexplainer.explainer;

import io.neuronexplainer.llm.LlmException;
import io.neuronexplainer.schemas.NeuronActivations;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in explainer for plumbing tests: answers after {@code delayMs} with a text naming the
 * neuron, and fails for good (an LlmException after 4 attempts) for the neurons in {@code failing}.
 */
final class TestExplainer implements Explainer {
    static final int FAILED_ATTEMPTS = 4;

    private final long delayMs;
    private final Set<Integer> failing;

    TestExplainer(long delayMs, Set<Integer> failing) {
        this.delayMs = delayMs;
        this.failing = failing;
    }

    @Override
    public String method() {
        return "test-fixed";
    }

    @Override
    public String model() {
        return "none";
    }

    @Override
    public String promptVersion() {
        return "test-v1";
    }

    @Override
    public CompletableFuture<ExplainerResult> explain(NeuronActivations neuron) {
        int n = neuron.getNeuron().getNeuron();
        return CompletableFuture.supplyAsync(() -> {
            if (failing.contains(n)) {
                throw new LlmException("HTTP 500 from the test server, gave up", FAILED_ATTEMPTS, null);
            }
            return new ExplainerResult(" the token of neuron " + n, promptVersion(), 100, 7);
        }, CompletableFuture.delayedExecutor(delayMs, TimeUnit.MILLISECONDS));
    }
}
