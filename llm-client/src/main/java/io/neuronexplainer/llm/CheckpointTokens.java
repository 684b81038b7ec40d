package io.neuronexplainer.llm;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.schemas.NeuronKey;

/**
 * Counts the LLM tokens a worker spent per checkpoint ({@code llm.checkpoint.tokens} by stage,
 * model, checkpoint and kind), so a team reads what explaining or simulating a checkpoint cost,
 * and the neurons done per checkpoint ({@code worker.checkpoint.neurons}), so a dashboard shows
 * where a checkpoint is in each stage.
 * The caller does not know the checkpoint; the workers count here when a neuron's result comes.
 */
public final class CheckpointTokens {
    private CheckpointTokens() {}

    /**
     * Adds one neuron's tokens; zeros too, so the series exist as soon as a checkpoint is worked on.
     *
     * @param stage the LLM stage, as in {@code llm.tokens}: {@code explainer} or {@code simulator}
     */
    public static void count(MeterRegistry meters, String stage, NeuronKey neuron, long promptTokens, long completionTokens) {
        counter(meters, stage, neuron, "prompt").increment(Math.max(0, promptTokens));
        counter(meters, stage, neuron, "completion").increment(Math.max(0, completionTokens));
        Counter.builder("worker.checkpoint.neurons").description("Neurons of a checkpoint this stage has done")
                .tag("stage", stage).tag("model", String.valueOf(neuron.getModel()))
                .tag("checkpoint", String.valueOf(neuron.getCheckpoint())).register(meters).increment();
    }

    private static Counter counter(MeterRegistry meters, String stage, NeuronKey neuron, String kind) {
        return Counter.builder("llm.checkpoint.tokens").description("LLM tokens spent on a checkpoint's neurons")
                .tag("stage", stage).tag("model", String.valueOf(neuron.getModel()))
                .tag("checkpoint", String.valueOf(neuron.getCheckpoint())).tag("kind", kind).register(meters);
    }
}
