package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps every score of a neuron, keyed by its identity (one per explanation, run and simulator
 * method), and forwards the neuron's current best explanation: the highest top-and-random
 * correlation, ties broken by explanation id then score id so the choice does not depend on
 * arrival order.
 */
final class BestExplanation implements FixedKeyProcessor<NeuronKey, NeuronScore, NeuronScore> {
    private FixedKeyProcessorContext<NeuronKey, NeuronScore> context;
    private KeyValueStore<String, NeuronScore> scores;

    @Override
    public void init(FixedKeyProcessorContext<NeuronKey, NeuronScore> context) {
        this.context = context;
        this.scores = context.getStateStore(ScorerTopology.SCORES_STORE);
    }

    @Override
    public void process(FixedKeyRecord<NeuronKey, NeuronScore> record) {
        NeuronScore score = record.value();
        scores.put(StoreKeys.score(record.key(), score.getScoreId()), score);
        String prefix = StoreKeys.neuron(record.key());
        NeuronScore best = null;
        try (KeyValueIterator<String, NeuronScore> it = scores.range(prefix, prefix + '\uffff')) {
            while (it.hasNext()) {
                NeuronScore s = it.next().value;
                // An explanation carried over from an earlier checkpoint measures drift; it is not this checkpoint's own.
                if (s.getCarriedFrom() == null && (best == null || better(s, best))) {
                    best = s;
                }
            }
        }
        if (best != null) {
            context.forward(record.withValue(best));
        }
    }

    static boolean better(NeuronScore a, NeuronScore b) {
        int c = Double.compare(a.getCorrelation(), b.getCorrelation());
        if (c != 0) {
            return c > 0;
        }
        int e = a.getExplanationId().compareTo(b.getExplanationId());
        return e < 0 || (e == 0 && a.getScoreId().compareTo(b.getScoreId()) < 0);
    }
}
