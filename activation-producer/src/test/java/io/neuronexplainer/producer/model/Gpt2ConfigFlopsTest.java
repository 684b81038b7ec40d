package io.neuronexplainer.producer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The FLOPs the pass performs per token, counted by hand for gpt2-small on 64-token windows. */
class Gpt2ConfigFlopsTest {
    @Test
    void countsEveryLayersMatmulsButTheLastLayersMlpOutput() {
        Gpt2Config small = Gpt2Config.gpt2Small();
        // Per layer: 2 x (768 x 2304 + 768 x 768 + 2 x 768 x 3072) + 2 x 2 x 64 x 768 = 14,352,384;
        // twelve layers less the last layer's MLP output projection, 2 x 3072 x 768.
        assertEquals(12 * 14_352_384.0 - 4_718_592.0, small.flopsPerToken(64, 12), 0.5);
        assertEquals(14_352_384.0 - 4_718_592.0, small.flopsPerToken(64, 1), 0.5);
        assertEquals(0, small.flopsPerToken(64, 0));
    }
}
