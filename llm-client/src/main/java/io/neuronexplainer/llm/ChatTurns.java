package io.neuronexplainer.llm;

import com.openai.models.chat.completions.ChatCompletionCreateParams;
import java.util.List;

/** Puts a prompt's turns into a chat completion request, each as the message of its role. */
public final class ChatTurns {
    private ChatTurns() {}

    public static ChatCompletionCreateParams.Builder addTo(ChatCompletionCreateParams.Builder b, List<ChatTurn> turns) {
        for (ChatTurn t : turns) {
            switch (t.role()) {
                case SYSTEM -> b.addSystemMessage(t.content());
                case USER -> b.addUserMessage(t.content());
                case ASSISTANT -> b.addAssistantMessage(t.content());
            }
        }
        return b;
    }
}
