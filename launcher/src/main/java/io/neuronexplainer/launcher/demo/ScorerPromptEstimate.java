package io.neuronexplainer.launcher.demo;

import io.neuronexplainer.explainer.ExplainerWorker;
import io.neuronexplainer.llm.ChatPromptTokens;
import io.neuronexplainer.llm.ChatTurn;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.SimulationRequest;
import io.neuronexplainer.scorer.ScorerStores;
import io.neuronexplainer.simulator.ChatLogprobsSimulator;
import io.neuronexplainer.simulator.JudgePrompt;
import java.util.List;
import java.util.Optional;

/**
 * What each scorer would cost a run made with the offline methods in LLM prompt tokens: the neuron's
 * request of that kind, built from its windows as the explainer builds it, put in the chat prompt the
 * LLM backend would send (all of a neuron's windows in one call) and counted with the LLM's tokenizer.
 */
final class ScorerPromptEstimate {
    private final ScorerStores stores;
    private final ChatPromptTokens tokenizer;

    ScorerPromptEstimate(ScorerStores stores, String model) {
        this.stores = stores;
        this.tokenizer = ChatPromptTokens.forModel(model);
    }

    String encoding() {
        return tokenizer.encodingName();
    }

    /** The prompt tokens of {@code neuron}'s best explanation under {@code kind}; 0 when unknown. */
    int tokens(String kind, NeuronKey neuron) {
        Optional<NeuronActivations> activations = stores.activations(neuron);
        Optional<NeuronScore> best = stores.best(neuron);
        if (activations.isEmpty() || best.isEmpty()) {
            return 0;
        }
        SimulationRequest request = ExplainerWorker.request(kind, activations.get(), best.get().getExplanationId(),
                best.get().getExplanationText(), 0, "");
        List<ChatTurn> turns = turns(kind, request);
        return turns.isEmpty() ? 0 : tokenizer.count(turns); // nothing to judge: no call
    }

    private static List<ChatTurn> turns(String kind, SimulationRequest request) {
        if (Identities.SIMULATION_SCORER.equals(kind)) {
            return ChatLogprobsSimulator.turns(request);
        }
        return request.getExcerpts().isEmpty() ? List.of()
                : JudgePrompt.turns(kind, request.getExplanationText(), request.getExcerpts());
    }
}
