package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronStats;
import io.neuronexplainer.schemas.ProducerRun;
import io.neuronexplainer.schemas.RegistryClient;
import io.neuronexplainer.schemas.WindowKind;
import io.neuronexplainer.schemas.WindowMax;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The scorer's projections of NeuronActivations read through a real registry: records in their own
 * schema (read by {@link ProjectedActivationsReader}) and the same records from a newer writer (read
 * by Avro's resolution) give the same projection, and each projection holds what its users need of
 * the record as written, whatever the values.
 */
class ActivationsProjectionTest {
    static TestKafka kafka;
    static KafkaClients clients;

    @BeforeAll
    static void start() {
        kafka = TestKafka.start(1);
        clients = kafka.clients();
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void ownAndNewerWritersReadAlikeAndAsWritten() throws Exception {
        // A newer writer: NeuronActivations with one more field at its end, so its bytes are the
        // record's own followed by that field's value.
        Schema own = NeuronActivations.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        own.getFields().forEach(f -> fields.add(new Schema.Field(f, f.schema())));
        fields.add(new Schema.Field("added_later", Schema.create(Schema.Type.INT), null, 0));
        Schema newer = Schema.createRecord(own.getName(), own.getDoc(), own.getNamespace(), false, fields);
        int newerId = clients.registry().register("projection-test-newer-value", newer);

        // Registry clients of their own, as another process has: the writers' schemas parsed from the registry's text.
        RegistryClient registry = new RegistryClient(clients.registryUrl(), Duration.ofSeconds(10));
        Map<String, ActivationsProjection> projections = Map.of("scoring", ActivationsProjection.scoring(registry),
                "drift", ActivationsProjection.drift(registry), "scoringTokens", ActivationsProjection.scoringTokens(registry));
        // What each keeps: explanation, top and random windows; tokens, activations; series and step; maxima.
        Map<String, Kept> kept = Map.of("scoring", new Kept(false, true, true, false, true, false, false),
                "drift", new Kept(true, true, false, false, false, true, true),
                "scoringTokens", new Kept(false, true, true, true, false, false, false));
        Random random = new Random(5);
        try (var serializer = new AvroSerializer<NeuronActivations>(clients.registry(), false)) {
            for (int r = 0; r < 200; r++) {
                NeuronActivations sent = record(random, r);
                byte[] bytes = serializer.serialize("projection-test", sent);
                if (r % 2 == 1) { // arrays in blocks of a few items with their byte sizes, as Avro's blocking encoder writes them
                    var out = new ByteArrayOutputStream();
                    out.write(bytes, 0, 5);
                    var blocks = new EncoderFactory().configureBlockSize(64).blockingBinaryEncoder(out, null);
                    new SpecificDatumWriter<>(NeuronActivations.class).write(sent, blocks);
                    blocks.flush();
                    bytes = out.toByteArray();
                }
                byte[] fromNewer = Arrays.copyOf(bytes, bytes.length + 1);
                ByteBuffer.wrap(fromNewer, 1, 4).putInt(newerId);
                fromNewer[bytes.length] = (byte) ((r % 60) << 1); // added_later, zig-zag

                for (var p : projections.entrySet()) {
                    NeuronActivations byHand = p.getValue().deserialize("t", bytes);
                    NeuronActivations resolved = p.getValue().deserialize("t", fromNewer);
                    // As text: Avro's equals holds a NaN unequal to itself.
                    assertEquals(resolved.toString(), byHand.toString(), p.getKey() + " of record " + r);
                    Kept k = kept.get(p.getKey());
                    assertEquals(k.view(sent), k.view(byHand), p.getKey() + " of record " + r);
                    k.nothingElse(byHand);
                }
            }
            // Only the hand-written reader refuses bytes left over (Avro's ignores them): each writer took its own path.
            byte[] own1 = serializer.serialize("projection-test", record(random, 0));
            byte[] longer = Arrays.copyOf(own1, own1.length + 1);
            byte[] newerLonger = Arrays.copyOf(longer, longer.length + 1);
            ByteBuffer.wrap(newerLonger, 1, 4).putInt(newerId);
            for (var p : projections.entrySet()) {
                var e = assertThrows(SerializationException.class, () -> p.getValue().deserialize("t", longer), p.getKey());
                assertTrue(e.getMessage().contains("bytes left"), e.getMessage());
                p.getValue().deserialize("t", newerLonger);
            }
        }
    }

    private static final List<String> TEXTS = List.of("", " cat", "\u00e9t\u00e9 \ud83d\ude00", "a\"b\\c\n", "x".repeat(300));
    private static final float[] SPECIALS = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, -1.5e-30f, 10f};

    private static NeuronActivations record(Random random, int r) {
        return new NeuronActivations(new NeuronKey(text(random), "step-" + r, random.nextInt(), -random.nextInt(50)),
                windows(random), windows(random), windows(random),
                new NeuronStats(random.nextFloat(), random.nextDouble(), random.nextLong(), random.nextLong()),
                new ProducerRun(text(random), text(random), random.nextInt(), random.nextInt(), random.nextInt(), random.nextLong(),
                        Instant.ofEpochMilli(random.nextLong() >> 20), text(random), random.nextLong()),
                maxima(random));
    }

    private static List<ActivationWindow> windows(Random random) {
        List<ActivationWindow> out = new ArrayList<>();
        for (int w = random.nextInt(8); w > 0; w--) {
            int n = random.nextInt(70);
            List<String> tokens = new ArrayList<>();
            List<Integer> ids = new ArrayList<>();
            List<Float> activations = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                tokens.add(text(random));
                ids.add(random.nextInt());
                activations.add(random.nextInt(5) == 0 ? SPECIALS[random.nextInt(SPECIALS.length)] : random.nextFloat() * 10);
            }
            out.add(new ActivationWindow(random.nextLong(), WindowKind.values()[random.nextInt(2)], tokens, ids, activations,
                    random.nextFloat()));
        }
        return out;
    }

    private static List<WindowMax> maxima(Random random) {
        List<WindowMax> out = new ArrayList<>();
        for (int m = random.nextInt(3) == 0 ? 0 : random.nextInt(60); m > 0; m--) {
            out.add(new WindowMax(random.nextLong(), random.nextInt(5) == 0 ? Float.NaN : random.nextFloat()));
        }
        return out;
    }

    private static String text(Random random) {
        return TEXTS.get(random.nextInt(TEXTS.size()));
    }

    /** What a projection keeps of a record. */
    record Kept(boolean explanation, boolean top, boolean random, boolean tokens, boolean activations, boolean series,
                boolean maxima) {
        /** The key, the kept windows' index, kind and kept fields, the kept run fields and the maxima, as text. */
        String view(NeuronActivations a) {
            StringBuilder out = new StringBuilder(a.getNeuron().toString());
            windows(out, explanation ? a.getExplanationWindows() : List.of());
            windows(out, top ? a.getScoringTopWindows() : List.of());
            windows(out, random ? a.getScoringRandomWindows() : List.of());
            out.append("\nrun ").append(a.getRun().getRunId());
            if (series) {
                out.append(" series ").append(a.getRun().getSeriesId()).append(" step ").append(a.getRun().getStep());
            }
            return out.append("\nmaxima ").append(maxima ? a.getRandomWindowMaxima() : List.of()).toString();
        }

        private void windows(StringBuilder out, List<ActivationWindow> list) {
            out.append("\n[");
            for (ActivationWindow w : list) {
                out.append(w.getWindowIndex()).append(' ').append(w.getKind()).append(' ').append(tokens ? w.getTokens() : "-")
                        .append(' ').append(activations ? w.getActivations() : "-").append("; ");
            }
            out.append(']');
        }

        /** A projection's record holds nothing it does not keep. */
        void nothingElse(NeuronActivations a) {
            assertTrue(explanation || a.getExplanationWindows().isEmpty());
            assertTrue(top || a.getScoringTopWindows().isEmpty());
            assertTrue(random || a.getScoringRandomWindows().isEmpty());
            for (var list : List.of(a.getExplanationWindows(), a.getScoringTopWindows(), a.getScoringRandomWindows())) {
                for (ActivationWindow w : list) {
                    assertTrue(tokens || w.getTokens().isEmpty());
                    assertTrue(activations || w.getActivations().isEmpty());
                    assertTrue(w.getTokenIds().isEmpty() && w.getMaxActivation() == 0f);
                }
            }
            assertTrue(maxima || a.getRandomWindowMaxima().isEmpty());
            assertEquals(new NeuronStats(0f, 0.0, 0L, 0L), a.getStats());
            assertEquals(new ProducerRun(a.getRun().getRunId(), "", 0, 0, 0, 0L, Instant.EPOCH,
                    series ? a.getRun().getSeriesId() : "", series ? a.getRun().getStep() : -1L), a.getRun());
        }
    }
}
