package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LayerAggregateTest {
    @Test
    void quantilesMeanAndGoodCountMatchTheScores() {
        Random rnd = new Random(3);
        double[] scores = new double[2001];
        LayerAggregate a = new LayerAggregate("m", "c", 4);
        for (int i = 0; i < scores.length; i++) {
            scores[i] = Math.tanh(rnd.nextGaussian());
            a.add(scores[i]);
        }
        double[] sorted = scores.clone();
        Arrays.sort(sorted);
        assertEquals(scores.length, a.count());
        assertEquals(Arrays.stream(scores).average().orElseThrow(), a.mean(), 1e-9);
        assertEquals(Arrays.stream(scores).filter(s -> s >= 0.8).count(), a.atLeastGood());
        for (double q : new double[] {0.1, 0.5, 0.9}) {
            // Bin width 0.01: interpolated quantiles land within one bin of the exact ones.
            assertEquals(sorted[(int) Math.round(q * (sorted.length - 1))], a.quantile(q), 0.01, "q=" + q);
        }
    }

    @Test
    void removingAContributionRestoresThePreviousStateExactly() {
        LayerAggregate a = new LayerAggregate("m", "c", 0).add(0.3).add(-0.7).add(0.95);
        LayerAggregate before = new LayerAggregateSerde().deserializer().deserialize("t", new LayerAggregateSerde().serializer().serialize("t", a));
        a.add(0.123456789).remove(0.123456789).add(0.81).remove(0.81);
        assertEquals(before, a);
        assertEquals(1, a.atLeastGood());
        assertEquals((0.3 - 0.7 + 0.95) / 3, a.mean(), 1e-12);
    }

    @Test
    void extremesFallInTheEndBins() {
        assertEquals(0, LayerAggregate.bin(-1));
        assertEquals(LayerAggregate.BINS - 1, LayerAggregate.bin(1));
        assertEquals(LayerAggregate.BINS - 1, LayerAggregate.bin(1.0000001));
        assertEquals(100, LayerAggregate.bin(0));
    }

    @Test
    void theBytesAreDataOutputStreamsSoAggregatesAlreadyStoredStillRead() throws IOException {
        LayerAggregateSerde serde = new LayerAggregateSerde();
        Random rnd = new Random(5);
        LayerAggregate a = new LayerAggregate("gpt2-é\u0000😀", "step-1000", 11);
        for (int n = 0; n < 300; n++) {
            assertArrayEquals(dataOutputStreamBytes(a), serde.serializer().serialize("t", a), "after " + n + " scores");
            assertEquals(a, serde.deserializer().deserialize("t", dataOutputStreamBytes(a)));
            a.add(Math.tanh(rnd.nextGaussian()));
        }
        byte[] cut = Arrays.copyOf(dataOutputStreamBytes(a), 40);
        assertThrows(org.apache.kafka.common.errors.SerializationException.class, () -> serde.deserializer().deserialize("t", cut));
    }

    /** The format as the first version of the serde wrote it, with a DataOutputStream. */
    private static byte[] dataOutputStreamBytes(LayerAggregate a) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte(1);
        out.writeUTF(a.model());
        out.writeUTF(a.checkpoint());
        out.writeInt(a.layer());
        out.writeLong(a.count());
        out.writeLong(a.sumFixed());
        out.writeLong(a.atLeastGood());
        long[] bins = a.bins();
        out.writeShort((int) Arrays.stream(bins).filter(b -> b != 0).count());
        for (int i = 0; i < bins.length; i++) {
            if (bins[i] != 0) {
                out.writeShort(i);
                out.writeLong(bins[i]);
            }
        }
        return bytes.toByteArray();
    }
}
