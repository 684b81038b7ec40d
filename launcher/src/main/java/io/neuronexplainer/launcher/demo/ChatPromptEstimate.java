package io.neuronexplainer.launcher.demo;

import io.neuronexplainer.explainer.ExplainerPrompt;
import io.neuronexplainer.explainer.ExplainerWorker;
import io.neuronexplainer.llm.ChatPromptTokens;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.scorer.ScorerStores;
import io.neuronexplainer.simulator.ChatLogprobsSimulator;
import java.util.Optional;

/**
 * What a run made with the offline methods would have cost in LLM prompt tokens: for a drift record,
 * the later checkpoint's chat explainer prompt and chat-logprobs simulation prompts, built from its
 * windows exactly as those backends build them and counted with the LLM's tokenizer.
 */
final class ChatPromptEstimate {
    private final ScorerStores stores;
    private final ChatPromptTokens explainer;
    private final ChatPromptTokens simulator;

    ChatPromptEstimate(ScorerStores stores, String explainerModel, String simulatorModel) {
        this.stores = stores;
        this.explainer = ChatPromptTokens.forModel(explainerModel);
        this.simulator = ChatPromptTokens.forModel(simulatorModel);
    }

    String encodings() {
        return explainer.encodingName().equals(simulator.encodingName()) ? explainer.encodingName()
                : explainer.encodingName() + " / " + simulator.encodingName();
    }

    /**
     * {@code d} with its token fields counted: the later checkpoint's explainer prompt plus the
     * simulation of its best explanation (for a reused one, the kept explanation: what explaining
     * it anew would have cost), and the carried simulation when there is one.
     */
    NeuronDrift counted(NeuronDrift d) {
        var k = d.getKey();
        Optional<NeuronActivations> to = stores.activations(new NeuronKey(k.getModel(), k.getToCheckpoint(), k.getLayer(), k.getNeuron()));
        if (to.isEmpty() || d.getToExplanation() == null) {
            return d;
        }
        NeuronActivations a = to.get();
        int explain = explainer.count(ExplainerPrompt.messages(a));
        NeuronDrift.Builder out = NeuronDrift.newBuilder(d).setToPromptTokens(explain + simulation(a, d.getToExplanation()));
        if (d.getCarriedCorrelation() != null && d.getFromExplanation() != null) {
            out.setCarriedPromptTokens(simulation(a, d.getFromExplanation()));
        }
        return out.build();
    }

    private int simulation(NeuronActivations a, String explanation) {
        return simulator.count(ChatLogprobsSimulator.turns(ExplainerWorker.simulationRequest(a, "", explanation, 0, "")));
    }
}
