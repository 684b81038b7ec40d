package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps every score of a neuron, keyed by its identity (one per explanation, run, scorer kind and
 * simulator method), and forwards the neuron's current best explanation: the highest top-and-random
 * correlation, ties broken by explanation id then score id so the choice does not depend on
 * arrival order. Only simulation scores of the neuron's own explanations compete ({@link #competes}):
 * a detection or fuzzing score is another figure of an explanation, not comparable with a correlation,
 * so it is stored (for the API, the export and the per-scorer layer figures) but never becomes the best.
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
        if (!Identities.SIMULATION_SCORER.equals(score.getScorerKind())) {
            return; // cannot change the best: nothing to forward
        }
        String prefix = StoreKeys.neuron(record.key());
        NeuronScore best = null;
        try (KeyValueIterator<String, NeuronScore> it = scores.range(prefix, prefix + '\uffff')) {
            while (it.hasNext()) {
                NeuronScore s = it.next().value;
                if (competes(s) && (best == null || better(s, best))) {
                    best = s;
                }
            }
        }
        if (best != null) {
            context.forward(record.withValue(best));
        }
    }

    /**
     * Whether the score can be the neuron's best: a simulation score (correlations compare; balanced
     * accuracies do not compare with them) of an explanation not carried over from an earlier
     * checkpoint (that one measures drift; it is not this checkpoint's own).
     */
    static boolean competes(NeuronScore s) {
        return s.getCarriedFrom() == null && Identities.SIMULATION_SCORER.equals(s.getScorerKind());
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
