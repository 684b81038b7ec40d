package io.neuronexplainer.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.producer.corpus.CorpusFingerprint;
import io.neuronexplainer.producer.corpus.CorpusSource;
import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.producer.model.DefaultModel;
import io.neuronexplainer.producer.model.Gpt2Model;
import io.neuronexplainer.producer.model.Gpt2Tokenizer;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.schemas.ActivationWindow;
import io.neuronexplainer.schemas.NeuronActivations;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real demo GPT-2 over ~200 windows of the default corpus: two shards merged give one pass's records. */
class CorpusPassDemoModelTest {
    private static final int WINDOWS = 200;
    private static final int BATCH = 8;
    private static final int[] LAYERS = {0, 3, 5};
    private static final RunIdentity RUN = new RunIdentity("demo-gpt2", "final", "europarl-en", "run-demo");

    @TempDir
    Path shared;

    private static List<NeuronActivations> emit(CorpusPass pass) {
        List<NeuronActivations> records = new ArrayList<>();
        pass.emit(RUN, Instant.EPOCH, records::add);
        return records;
    }

    @Test
    void twoShardsMergedEqualOnePass() throws IOException {
        Path folder = DefaultModel.folder();
        SamplingSettings settings = SamplingSettings.defaults();
        CorpusSource corpus = CorpusSource.of(null);
        String fingerprint = CorpusFingerprint.of(corpus);
        try (Gpt2Model model = Gpt2Model.load(folder); Gpt2Tokenizer tokenizer = Gpt2Tokenizer.forModel(folder, null)) {
            CorpusPass one = new CorpusPass(model, tokenizer, LAYERS, settings, fingerprint, BATCH);
            PassResult oneResult;
            try (WindowCutter cutter = new WindowCutter(corpus.open(), tokenizer, settings.windowTokens(), WINDOWS)) {
                oneResult = one.run(cutter, corpus.name(), () -> {}, PassProgress.NONE);
            }
            assertEquals(WINDOWS, oneResult.windows());
            List<NeuronActivations> expected = emit(one);

            PassSnapshotStore store = new PassSnapshotStore(shared);
            for (ShardRange range : ShardRange.split(WINDOWS, 2, BATCH)) {
                CorpusPass shard = new CorpusPass(model, tokenizer, LAYERS, settings, fingerprint, BATCH);
                try (WindowCutter cutter = shard.cutter(corpus.open(), range, WINDOWS)) {
                    shard.run(cutter, range, corpus.name(), () -> {}, PassProgress.NONE, PassSnapshots.NONE, null);
                }
                store.save("run-demo", shard.state());
            }
            CorpusPass merged = new CorpusPass(model, tokenizer, LAYERS, settings, fingerprint, BATCH);
            merged.adopt(PassState.merge(store.finished("run-demo", 2).orElseThrow()));
            SyntheticPass.assertSameCounts(oneResult, merged.state().result());
            List<NeuronActivations> actual = emit(merged);

            assertEquals(expected.size(), actual.size());
            assertEquals(LAYERS.length * model.neuronsPerLayer(), actual.size());
            for (int i = 0; i < expected.size(); i++) {
                NeuronActivations e = expected.get(i);
                NeuronActivations a = actual.get(i);
                String at = e.getNeuron().toString();
                assertEquals(e.getNeuron(), a.getNeuron());
                assertSameWindows(e.getExplanationWindows(), a.getExplanationWindows(), at + " explanation");
                assertSameWindows(e.getScoringTopWindows(), a.getScoringTopWindows(), at + " scoring");
                assertSameWindows(e.getScoringRandomWindows(), a.getScoringRandomWindows(), at + " random");
                assertEquals(e.getRandomWindowMaxima(), a.getRandomWindowMaxima(), at + " random window maxima");
                assertEquals(e.getStats().getMaxActivation(), a.getStats().getMaxActivation(), 1e-5, at);
                assertEquals(e.getStats().getMeanActivation(), a.getStats().getMeanActivation(), 1e-5, at);
                assertEquals(e.getStats().getWindowsSeen(), a.getStats().getWindowsSeen(), at);
                assertEquals(e.getStats().getTokensSeen(), a.getStats().getTokensSeen(), at);
            }
            assertTrue(expected.get(0).getScoringRandomWindows().size() > 0, "random windows sampled");
        }
    }

    private static void assertSameWindows(List<ActivationWindow> expected, List<ActivationWindow> actual, String at) {
        assertEquals(expected.stream().map(ActivationWindow::getWindowIndex).toList(),
                actual.stream().map(ActivationWindow::getWindowIndex).toList(), at + " window indices");
        for (int w = 0; w < expected.size(); w++) {
            assertEquals(expected.get(w).getTokenIds(), actual.get(w).getTokenIds(), at);
            List<Float> e = expected.get(w).getActivations();
            List<Float> a = actual.get(w).getActivations();
            assertEquals(e.size(), a.size(), at);
            for (int t = 0; t < e.size(); t++) {
                assertEquals(e.get(t), a.get(t), 1e-5, at + " window " + expected.get(w).getWindowIndex() + " token " + t);
            }
        }
    }
}
