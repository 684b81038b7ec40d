package io.neuronexplainer.producer;

import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.schemas.Identities;

/**
 * What a producer run is about: model and checkpoint names, the corpus name, and the run id, a
 * hash of (model, checkpoint, corpus fingerprint, sampling settings) as docs/architecture.md
 * defines it, so the same checkpoint over the same corpus and settings is always the same run;
 * the series id is the same hash without the checkpoint, and the step places the run in it.
 */
public record RunIdentity(String model, String checkpoint, String corpus, String runId, String seriesId, long step) {

    /** A run outside any series (tests, tools): no series id, unknown step. */
    public RunIdentity(String model, String checkpoint, String corpus, String runId) {
        this(model, checkpoint, corpus, runId, "", -1);
    }

    /**
     * @param corpusFingerprint the corpus's content hash ({@link io.neuronexplainer.producer.corpus.CorpusFingerprint})
     * @param windowBudget      --windows (0 = the whole corpus): fewer windows sample differently
     * @param step              the checkpoint's training step, null when unknown
     */
    public static RunIdentity of(String model, String checkpoint, String corpus, String corpusFingerprint,
                                 SamplingSettings settings, long windowBudget, Long step) {
        String sampling = "window_tokens=" + settings.windowTokens() + " top_k=" + settings.topK()
                + " explain_top=" + settings.explainTop() + " score_top=" + settings.scoreTop()
                + " random=" + settings.random() + " drift_windows=" + settings.driftWindows() + " seed=" + settings.seed()
                + " windows=" + windowBudget;
        return new RunIdentity(model, checkpoint, corpus, Identities.runId(model, checkpoint, corpusFingerprint, sampling),
                Identities.seriesId(model, corpusFingerprint, sampling), step == null ? -1 : step);
    }
}
