package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.InternalFixedKeyRecordFactory;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;

/**
 * The best-explanation processor (no broker: its store and context are in memory): judged scores
 * are stored but never become the best, even one whose correlation field is set, and their arrival
 * forwards nothing; carried scores do not compete either.
 */
class BestExplanationTest {
    static final NeuronKey KEY = Fixtures.key(5, 1);

    /** The processor over an in-memory scores store, with what it forwards. */
    static final class Harness {
        final TreeMap<String, NeuronScore> store = new TreeMap<>();
        final List<NeuronScore> forwarded = new ArrayList<>();
        final BestExplanation processor = new BestExplanation();

        @SuppressWarnings("unchecked")
        Harness() {
            KeyValueStore<String, NeuronScore> kv = (KeyValueStore<String, NeuronScore>) Proxy.newProxyInstance(
                    getClass().getClassLoader(), new Class<?>[] {KeyValueStore.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "put" -> store.put((String) args[0], (NeuronScore) args[1]);
                        case "get" -> store.get((String) args[0]);
                        case "range" -> iterator(store.subMap((String) args[0], true, (String) args[1], true).entrySet().iterator());
                        case "name" -> ScorerTopology.SCORES_STORE;
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
            FixedKeyProcessorContext<NeuronKey, NeuronScore> context = (FixedKeyProcessorContext<NeuronKey, NeuronScore>)
                    Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {FixedKeyProcessorContext.class},
                            (proxy, method, args) -> switch (method.getName()) {
                                case "getStateStore" -> kv;
                                case "forward" -> {
                                    forwarded.add(((FixedKeyRecord<NeuronKey, NeuronScore>) args[0]).value());
                                    yield null;
                                }
                                default -> throw new UnsupportedOperationException(method.getName());
                            });
            processor.init(context);
        }

        void arrive(NeuronScore score) {
            processor.process(InternalFixedKeyRecordFactory.create(new Record<>(score.getNeuron(), score, 0L)));
        }

        private static KeyValueIterator<String, NeuronScore> iterator(Iterator<java.util.Map.Entry<String, NeuronScore>> entries) {
            return new KeyValueIterator<>() {
                @Override
                public boolean hasNext() {
                    return entries.hasNext();
                }

                @Override
                public KeyValue<String, NeuronScore> next() {
                    var e = entries.next();
                    return KeyValue.pair(e.getKey(), e.getValue());
                }

                @Override
                public String peekNextKey() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public void close() {}
            };
        }
    }

    static NeuronScore score(String explanation, String kind, double correlation, Double balancedAccuracy, String carriedFrom) {
        String method = "m-" + kind;
        return NeuronScore.newBuilder().setNeuron(KEY).setExplanationId(explanation).setExplanationText("text " + explanation)
                .setSimulatorMethod(method).setCorrelation(correlation).setTopCorrelation(0).setRandomCorrelation(0)
                .setRsquared(0).setAbsoluteDevExplained(0).setTopWindows(1).setRandomWindows(1).setTokens(3)
                .setScoredAt(Instant.EPOCH).setRunId("run-1").setScorerKind(kind).setCarriedFrom(carriedFrom)
                .setBalancedAccuracy(balancedAccuracy)
                .setScoreId(Identities.scoreId(KEY, "run-1", explanation, kind, method, carriedFrom)).build();
    }

    @Test
    void judgedScoresAreStoredButNeverTheBest() {
        Harness h = new Harness();
        h.arrive(score("e-judged", Identities.DETECTION_SCORER, 0, 0.95, null));
        h.arrive(score("e-judged", Identities.FUZZING_SCORER, 0, 0.9, null));
        assertTrue(h.forwarded.isEmpty(), "no simulation score yet: no best");
        assertEquals(2, h.store.size(), "both kept");

        NeuronScore simulated = score("e-sim", Identities.SIMULATION_SCORER, 0.4, null, null);
        h.arrive(simulated);
        assertEquals(List.of(simulated), h.forwarded);

        // A judged score whose correlation field were set, even above the best, still does not compete, nor forward.
        h.arrive(score("e-odd", Identities.DETECTION_SCORER, 0.99, 0.99, null));
        assertEquals(List.of(simulated), h.forwarded);
        assertEquals(4, h.store.size());

        // A simulation score of another explanation arriving picks among simulation scores only.
        h.arrive(score("e-sim2", Identities.SIMULATION_SCORER, 0.3, null, null));
        assertEquals(List.of(simulated, simulated), h.forwarded);
        // A carried score, however high, is not this checkpoint's own.
        h.arrive(score("e-old", Identities.SIMULATION_SCORER, 0.97, null, "step-1000"));
        assertEquals(simulated, h.forwarded.get(h.forwarded.size() - 1));
    }

    @Test
    void competesOnlyForOwnSimulationScores() {
        assertTrue(BestExplanation.competes(score("e", Identities.SIMULATION_SCORER, 0.1, null, null)));
        assertFalse(BestExplanation.competes(score("e", Identities.SIMULATION_SCORER, 0.1, null, "c0")));
        assertFalse(BestExplanation.competes(score("e", Identities.DETECTION_SCORER, 0.1, 0.8, null)));
        assertFalse(BestExplanation.competes(score("e", Identities.FUZZING_SCORER, 0.1, 0.8, null)));
    }
}
