package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.neuronexplainer.schemas.WindowKind;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.PrimitivesArrays;
import org.junit.jupiter.api.Test;

class WindowPairingTest {
    @Test
    void valuesReadByAvroAsPrimitiveFloatsConcatenateAsBoxedListsDo() {
        List<Float> boxedA = List.of(1f, -2.5f, 0f), boxedB = List.of(3.25f, 7f);
        List<WindowPairing.Pair> boxed = List.of(new WindowPairing.Pair(WindowKind.TOP, 0, boxedA, List.of(9f, 8f, 7f)),
                new WindowPairing.Pair(WindowKind.RANDOM, 1, boxedB, List.of(0.5f, 0.25f)));
        List<WindowPairing.Pair> primitive = List.of(new WindowPairing.Pair(WindowKind.TOP, 0, floats(boxedA), floats(List.of(9f, 8f, 7f))),
                new WindowPairing.Pair(WindowKind.RANDOM, 1, floats(boxedB), floats(List.of(0.5f, 0.25f))));
        assertArrayEquals(new double[] {1, -2.5, 0, 3.25, 7}, WindowPairing.actual(primitive));
        assertArrayEquals(WindowPairing.actual(boxed), WindowPairing.actual(primitive));
        assertArrayEquals(WindowPairing.predicted(boxed), WindowPairing.predicted(primitive));
    }

    private static List<Float> floats(List<Float> values) {
        PrimitivesArrays.FloatArray out = new PrimitivesArrays.FloatArray(values.size(), Schema.createArray(Schema.create(Schema.Type.FLOAT)));
        out.addAll(values);
        return out;
    }
}
