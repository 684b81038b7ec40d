package io.neuronexplainer.runtime.test;

import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.NeuronStats;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.RunState;
import io.neuronexplainer.schemas.SimulatedWindow;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import io.neuronexplainer.schemas.WindowKind;
import io.neuronexplainer.schemas.WindowMax;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;

/** One filled-in record of every schema, for round-trip tests. */
public final class SampleRecords {
    public static final Instant AT = Instant.ofEpochMilli(1_790_000_000_000L);

    private SampleRecords() {}

    public static NeuronKey key(int layer, int neuron) {
        return new NeuronKey("demo-gpt2", "final", layer, neuron);
    }

    public static ActivationWindow window(long index, WindowKind kind, float peak) {
        return new ActivationWindow(index, kind, List.of(" The", " cat", " sat"), List.of(383, 3797, 3332),
                List.of(0f, peak, 0.25f), peak);
    }

    /** The key {@link #activations(NeuronKey)} is sent under: the neuron and its run. */
    public static ActivationsKey activationsKey(NeuronKey key) {
        return Identities.activationsKey(activations(key));
    }

    public static NeuronActivations activations(NeuronKey key) {
        return new NeuronActivations(key,
                List.of(window(7, WindowKind.TOP, 3.5f), window(9, WindowKind.TOP, 3.0f)),
                List.of(window(11, WindowKind.TOP, 2.5f)),
                List.of(window(40, WindowKind.RANDOM, 0.1f)),
                new NeuronStats(3.5f, 0.02, 1000L, 64_000L),
                new ProducerRun("run-1", "europarl", 64, 20, 10, 42L, AT, "", -1L),
                List.of(new WindowMax(40L, 0.1f), new WindowMax(41L, 0.3f)));
    }

    /** The id of the sample explanation of {@code key}: one per neuron, as real explanation ids are. */
    public static String explanationId(NeuronKey key) {
        return Identities.explanationId(key, "run-1", "token-pattern-baseline", "none", "v1");
    }

    public static Explanation explanation(NeuronKey key) {
        return new Explanation(key, explanationId(key), " the word cat", "token-pattern-baseline", "none", "v1", 0, 0, AT, "run-1");
    }

    public static SimulationRequest simulationRequest(NeuronKey key) {
        return new SimulationRequest(key, explanationId(key), " the word cat",
                List.of(new TokenWindow(11L, WindowKind.TOP, List.of(" The", " cat", " sat")),
                        new TokenWindow(40L, WindowKind.RANDOM, List.of(" A", " dog"))), "run-1", null, 120, "token-pattern-baseline/v1", Identities.SIMULATION_SCORER, List.of());
    }

    public static Simulation simulation(NeuronKey key) {
        return new Simulation(key, explanationId(key), " the word cat", "token-pattern-baseline", "none",
                List.of(new SimulatedWindow(11L, WindowKind.TOP, List.of(0f, 10f, 0f)),
                        new SimulatedWindow(40L, WindowKind.RANDOM, List.of(0f, 0f))), 0, 0, AT, "run-1", null, 0, "token-pattern-baseline/v1", Identities.SIMULATION_SCORER, List.of());
    }

    public static NeuronScore score(NeuronKey key) {
        return new NeuronScore(key, explanationId(key), " the word cat", "token-pattern-baseline", "token-pattern-baseline",
                0.81, 0.7, 0.0, 0.5, 0.4, List.of("random_correlation"), 1, 1, 5, AT, "run-1",
                Identities.scoreId(key, "run-1", explanationId(key), Identities.SIMULATION_SCORER, "token-pattern-baseline", null),
                Identities.SIMULATION_SCORER, null, 0, 0, null, null, java.util.List.of());
    }

    public static CheckpointRunKey runKey() {
        return new CheckpointRunKey("demo-gpt2", "final", "europarl", "run-1", -1);
    }

    public static CheckpointRun run() {
        return CheckpointRun.newBuilder().setModel("demo-gpt2").setCheckpoint("final").setCorpus("europarl")
                .setRunId("run-1").setState(RunState.COMPLETED).setLayers(6).setNeuronsTotal(3072L).setNeuronsEmitted(3072L)
                .setWindows(2000L).setTokens(128_000L).setWindowsTotal(2000L).setStep(6000L)
                .setStartedAt(AT).setUpdatedAt(AT.plusSeconds(30)).build();
    }

    public static DeadLetter deadLetter() {
        return new DeadLetter("explainer-worker", "neuron-activations", 3, 42L,
                ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 1}), ByteBuffer.wrap(new byte[] {9, 9, 9}),
                "org.apache.kafka.common.errors.SerializationException", "not Avro", 1, AT);
    }
}
