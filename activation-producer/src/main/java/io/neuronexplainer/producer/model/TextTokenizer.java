package io.neuronexplainer.producer.model;

/** Turns text into a model's token ids and ids back into the text of each token. */
public interface TextTokenizer extends AutoCloseable {
    /** All token ids of {@code text}: never truncated. */
    int[] encode(String text);

    /** The text of one token, as it appears in the input (e.g. " cat" with its leading space). */
    String tokenText(int id);

    /** The texts of many tokens, in order: a tokenizer behind a native call decodes them in one. */
    default String[] tokenTexts(int[] ids) {
        String[] texts = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            texts[i] = tokenText(ids[i]);
        }
        return texts;
    }

    @Override
    void close();
}
