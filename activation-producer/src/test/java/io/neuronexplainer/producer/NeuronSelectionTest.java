package io.neuronexplainer.producer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NeuronSelectionTest {

    @Test
    void readsRangesSingleNeuronsAndWholeLayers() {
        NeuronSelection s = NeuronSelection.parse("0:0-99, 3:7,5");
        assertArrayEquals(new int[] {0, 3, 5}, s.layers(6));
        assertTrue(s.includes(0, 0) && s.includes(0, 99) && s.includes(3, 7) && s.includes(5, 511));
        assertFalse(s.includes(0, 100) || s.includes(3, 8) || s.includes(1, 0));
        assertEquals(100 + 1 + 512, s.count(512));
        assertArrayEquals(new int[] {0, 3, 5}, NeuronSelection.layersToRun(s, 6));
        assertArrayEquals(new int[] {0, 1, 2, 3}, NeuronSelection.layersToRun(null, 4), "no selection: every layer");
    }

    @Test
    void badSpecsAreNamed() {
        for (String bad : new String[] {"", "a:1", "0:5-2", "0:-1", "-1"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> NeuronSelection.parse(bad));
            assertTrue(e.getMessage().startsWith("--neurons"), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> NeuronSelection.parse("7:0-3").layers(6));
        assertTrue(e.getMessage().contains("0..5"), e.getMessage());
    }
}
