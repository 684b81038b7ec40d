package io.neuronexplainer.producer;

import io.neuronexplainer.producer.model.TextTokenizer;

/** A test tokenizer: one token per code point, its id the code point. Exact and easy to reason about. */
public final class CharTokenizer implements TextTokenizer {
    @Override
    public int[] encode(String text) {
        return text.codePoints().toArray();
    }

    @Override
    public String tokenText(int id) {
        return new String(Character.toChars(id));
    }

    @Override
    public void close() {}
}
