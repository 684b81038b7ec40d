package io.neuronexplainer.scorer.drift;

import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.DriftRequest;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.schemas.TokenWindow;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.schemas.WindowKind;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Attaches a run's windows to the drift tracker's requests, in the task holding the run's
 * activations (the requests are placed by their neuron, as the activations are): a carried
 * simulation gets the run's scoring windows' tokens, top then random as the explainer sends them,
 * and an explanation asked for gets the activations record as it came. The tracker keeps neither,
 * so its store and topics carry indexes and figures only.
 */
public final class DriftRequests implements FixedKeyProcessor<NeuronKey, DriftRequest, DriftRequests.Attached> {
    private static final Logger log = LoggerFactory.getLogger(DriftRequests.class);

    /** A request with its windows: a simulation request, or the activations record to explain. */
    public record Attached(SimulationRequest carry, ActivationsKey explainKey, byte[] activations) {
        public boolean isCarry() {
            return carry != null;
        }
    }

    private final String activationsStore;
    private final Deserializer<NeuronActivations> tokensReader;
    private FixedKeyProcessorContext<NeuronKey, Attached> context;
    private TimestampedKeyValueStore<ActivationsKey, byte[]> activations;

    /** @param tokensReader reads at least the scoring windows' indexes and tokens of an activations record */
    public DriftRequests(String activationsStore, Deserializer<NeuronActivations> tokensReader) {
        this.activationsStore = activationsStore;
        this.tokensReader = tokensReader;
    }

    @Override
    public void init(FixedKeyProcessorContext<NeuronKey, Attached> context) {
        this.context = context;
        this.activations = context.getStateStore(activationsStore);
    }

    @Override
    public void process(FixedKeyRecord<NeuronKey, DriftRequest> record) {
        ActivationsKey key = new ActivationsKey(record.key(), record.value().getRunId());
        ValueAndTimestamp<byte[]> found = activations.get(key);
        if (found == null) {
            // The tracker asks only for runs whose activations it has seen, and the project never
            // deletes them: only a tombstone written by hand, or neuron-activations and
            // neuron-simulations with different partition counts (which breaks the join too), get here.
            log.warn("drift request for {} run {} not sent: its activations are no longer in the scorer's store",
                    record.key(), key.getRunId());
            return;
        }
        SimulationRequest carry = record.value().getCarry();
        if (carry == null) {
            context.forward(record.withValue(new Attached(null, key, found.value())));
            return;
        }
        NeuronActivations run = tokensReader.deserialize(Topics.NEURON_ACTIVATIONS, found.value());
        carry = SimulationRequest.newBuilder(carry).setWindows(scoringWindows(run)).build();
        context.forward(record.withValue(new Attached(carry, null, null)));
    }

    /** The scoring windows as the explainer sends them to the simulator: top, then random. */
    static List<TokenWindow> scoringWindows(NeuronActivations a) {
        List<TokenWindow> out = new ArrayList<>();
        for (ActivationWindow w : a.getScoringTopWindows()) {
            out.add(new TokenWindow(w.getWindowIndex(), WindowKind.TOP, List.copyOf(w.getTokens())));
        }
        for (ActivationWindow w : a.getScoringRandomWindows()) {
            out.add(new TokenWindow(w.getWindowIndex(), WindowKind.RANDOM, List.copyOf(w.getTokens())));
        }
        return out;
    }
}
