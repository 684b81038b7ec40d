package io.neuronexplainer.llm;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import java.util.List;

/**
 * The prompt tokens OpenAI bills for a chat request, counted here without calling it: each message's
 * content in the model's tokenizer, plus {@value #PER_MESSAGE} per message and {@value #REPLY_PRIMING}
 * for the reply (OpenAI's published rule for the gpt-4o and gpt-4 families). For a run with no LLM,
 * what its prompts would cost.
 */
public final class ChatPromptTokens {
    static final int PER_MESSAGE = 3;
    static final int REPLY_PRIMING = 3;
    private static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();

    private final Encoding encoding;

    private ChatPromptTokens(Encoding encoding) {
        this.encoding = encoding;
    }

    /** The tokenizer of {@code model}; o200k_base (gpt-4o's) for a model the library does not know. */
    public static ChatPromptTokens forModel(String model) {
        return new ChatPromptTokens(REGISTRY.getEncodingForModel(model)
                .orElseGet(() -> REGISTRY.getEncoding(EncodingType.O200K_BASE)));
    }

    public String encodingName() {
        return encoding.getName();
    }

    /** Tokens of the text alone. */
    public int tokens(String text) {
        return encoding.countTokensOrdinary(text);
    }

    /** Prompt tokens of a chat request made of {@code turns}. */
    public int count(List<ChatTurn> turns) {
        int n = REPLY_PRIMING;
        for (ChatTurn t : turns) {
            n += PER_MESSAGE + tokens(t.role().name().toLowerCase(java.util.Locale.ROOT)) + tokens(t.content());
        }
        return n;
    }
}
