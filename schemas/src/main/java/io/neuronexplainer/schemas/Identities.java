package io.neuronexplainer.schemas;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The identities every stage uses, defined once (docs/architecture.md, "Identities"): the same
 * input delivered again yields the same ids, so no stage makes a second record of one identity.
 * Each is a truncated SHA-256 of its NUL-separated parts (NUL because names are free text).
 */
public final class Identities {
    /** The scorer kind of the paper's method: an explanation simulated and correlated. */
    public static final String SIMULATION_SCORER = "simulation";
    /** The scorer kind that asks which excerpts (top windows, or quiet random ones) activate the neuron. */
    public static final String DETECTION_SCORER = "detection";
    /** The scorer kind that asks whether an excerpt's marked tokens are the ones that activate the neuron. */
    public static final String FUZZING_SCORER = "fuzzing";
    /** Every scorer kind, in the order they are listed and shown. */
    public static final java.util.List<String> SCORER_KINDS = java.util.List.of(SIMULATION_SCORER, DETECTION_SCORER, FUZZING_SCORER);

    private Identities() {}

    /** run = hash(model, checkpoint, corpus fingerprint, sampling settings). */
    public static String runId(String model, String checkpoint, String corpusFingerprint, String samplingSettings) {
        return "run-" + hash(model, checkpoint, corpusFingerprint, samplingSettings);
    }

    /**
     * series = hash(model, corpus fingerprint, sampling settings): the checkpoints of a model run
     * on the same windows and random sample, whose activations compare window by window.
     */
    public static String seriesId(String model, String corpusFingerprint, String samplingSettings) {
        return "series-" + hash(model, corpusFingerprint, samplingSettings);
    }

    /** The key of a neuron's activations: the neuron and its run, so each run's windows are kept. */
    public static ActivationsKey activationsKey(NeuronActivations activations) {
        return new ActivationsKey(activations.getNeuron(), activations.getRun().getRunId());
    }

    /** explanation = hash(neuron, run, explainer method, explainer model, prompt version). */
    public static String explanationId(NeuronKey neuron, String runId, String method, String model, String promptVersion) {
        return "expl-" + hash(neuron.getModel(), neuron.getCheckpoint(), Integer.toString(neuron.getLayer()),
                Integer.toString(neuron.getNeuron()), runId, method, model, promptVersion);
    }

    /**
     * score = (neuron, run, explanation, scorer kind, simulator method, carried-from checkpoint or
     * none); carriedFrom is null for an explanation scored on the run it was written for.
     */
    public static String scoreId(NeuronKey neuron, String runId, String explanationId, String scorerKind,
                                 String simulatorMethod, String carriedFrom) {
        return "score-" + hash(neuron.getModel(), neuron.getCheckpoint(), Integer.toString(neuron.getLayer()),
                Integer.toString(neuron.getNeuron()), runId, explanationId, scorerKind, simulatorMethod,
                carriedFrom == null ? "" : carriedFrom);
    }

    /** The first 16 bytes of SHA-256 over the parts joined by NUL, in hex. */
    public static String hash(String... parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] digest = sha.digest(String.join("\u0000", parts).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
