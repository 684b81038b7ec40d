package io.neuronexplainer.explainer;

import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The id of an explanation: a hash of what determines it (the neuron, the producer run whose
 * windows it explains, the method, model and prompt version), so a replay yields the same id.
 */
public final class ExplanationId {
    private ExplanationId() {}

    public static String of(NeuronActivations neuron, String method, String model, String promptVersion) {
        NeuronKey k = neuron.getNeuron();
        String identity = String.join("\u0000", k.getModel(), k.getCheckpoint(), Integer.toString(k.getLayer()),
                Integer.toString(k.getNeuron()), neuron.getRun().getRunId(), method, model, promptVersion);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
            return "expl-" + HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
