package io.neuronexplainer.producer;

import static io.neuronexplainer.producer.SyntheticPass.BATCH;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.schemas.NeuronActivations;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pass killed part-way, resumed by a new pass object (as another process would) from the
 * snapshot file alone, emits exactly the records of an uninterrupted pass.
 */
class CorpusPassResumeTest {
    @TempDir
    Path shared;

    @Test
    void aPassResumedFromItsLatestSnapshotFileEmitsTheUninterruptedRecords() throws IOException {
        PassResult[] expectedResult = new PassResult[1];
        List<NeuronActivations> expected = SyntheticPass.onePass(expectedResult);

        PassSnapshotStore store = new PassSnapshotStore(shared);
        try (SnapshotWriter writer = store.writer("run-1")) {
            CorpusPass doomed = SyntheticPass.newPass();
            IOException killed = assertThrows(IOException.class, () -> {
                try (WindowCutter cutter = doomed.cutter(SyntheticPass.corpusKilledAfter(70), ShardRange.all(), 0)) {
                    doomed.run(cutter, ShardRange.all(), "generated", () -> {}, PassProgress.NONE, writer, Duration.ZERO);
                }
            });
            assertEquals("killed", killed.getMessage());
            writer.flush();
        }

        // A new process: nothing but the shared folder.
        PassState saved = new PassSnapshotStore(shared).latest("run-1", 0, 1).orElseThrow();
        assertFalse(saved.done());
        assertTrue(saved.nextWindow() > 0 && saved.nextWindow() < expectedResult[0].windows(), "part-way: " + saved.nextWindow());
        assertEquals(0, saved.nextWindow() % BATCH, "snapshots are taken between batches");
        CorpusPass resumed = SyntheticPass.newPass();
        resumed.restore(saved);
        PassResult result = SyntheticPass.run(resumed, ShardRange.all());
        SyntheticPass.assertSameCounts(expectedResult[0], result);
        SyntheticPass.assertSameRecords(expected, SyntheticPass.emit(resumed), "resumed");
    }

    @Test
    void resumingFromAnyOlderSnapshotGivesTheSameRecords() throws IOException {
        PassResult[] expectedResult = new PassResult[1];
        List<NeuronActivations> expected = SyntheticPass.onePass(expectedResult);
        List<PassState> snapshots = new ArrayList<>();
        CorpusPass full = SyntheticPass.newPass();
        SyntheticPass.run(full, ShardRange.all(), snapshots::add, Duration.ZERO);
        assertTrue(snapshots.size() > 10, "a snapshot per batch: " + snapshots.size());
        assertTrue(snapshots.get(snapshots.size() - 1).done(), "the last one is the finished pass");
        SyntheticPass.assertSameRecords(expected, SyntheticPass.emit(full), "with snapshots");

        for (int i : new int[] {0, snapshots.size() / 3, snapshots.size() - 2}) {
            Path file = shared.resolve("snapshot-" + i + ".state");
            snapshots.get(i).write(file);
            CorpusPass resumed = SyntheticPass.newPass();
            resumed.restore(PassState.read(file));
            SyntheticPass.assertSameCounts(expectedResult[0], SyntheticPass.run(resumed, ShardRange.all()));
            SyntheticPass.assertSameRecords(expected, SyntheticPass.emit(resumed), "resumed from snapshot " + i);
        }
        // A finished state resumes to nothing to do, and emits the same.
        CorpusPass finished = SyntheticPass.newPass();
        finished.restore(snapshots.get(snapshots.size() - 1));
        SyntheticPass.run(finished, ShardRange.all());
        SyntheticPass.assertSameRecords(expected, SyntheticPass.emit(finished), "restored finished");
    }

    @Test
    void aSnapshotOfAnotherPassOrARangeMismatchIsRefused() throws IOException {
        List<PassState> snapshots = new ArrayList<>();
        SyntheticPass.run(SyntheticPass.newPass(), ShardRange.all(), snapshots::add, Duration.ZERO);
        CorpusPass otherBatch = new CorpusPass(new SyntheticModel(3, SyntheticPass.NEURONS), new CharTokenizer(),
                SyntheticPass.LAYERS, SyntheticPass.SETTINGS, SyntheticPass.FINGERPRINT, 6);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> otherBatch.restore(snapshots.get(1)));
        assertTrue(e.getMessage().startsWith("pass state of another pass: layers [2, 0] x 24 neurons, batch 5"), e.getMessage());

        CorpusPass resumed = SyntheticPass.newPass();
        resumed.restore(snapshots.get(1));
        try (WindowCutter fromStart = new WindowCutter(SyntheticPass.corpus(), new CharTokenizer(), 64, 0)) {
            assertEquals("the cutter starts at window 0 but the pass continues at window 10 (use CorpusPass.cutter)",
                    assertThrows(IllegalArgumentException.class,
                            () -> resumed.run(fromStart, "generated", () -> {}, PassProgress.NONE)).getMessage());
        }
        assertEquals("this pass is of shard 0 of 1 [0, end), not shard 0 of 2 [0, 10)",
                assertThrows(IllegalArgumentException.class,
                        () -> resumed.cutter(SyntheticPass.corpus(), new ShardRange(0, 2, 0, 10), 0)).getMessage());
    }
}
