package io.neuronexplainer.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.producer.corpus.WindowCutter;
import io.neuronexplainer.schemas.NeuronActivations;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shards of a corpus run by separate passes and merged, in any order, emit one whole pass's records. */
class CorpusPassShardsTest {
    @TempDir
    Path shared;

    /** Each shard run by its own pass, its finished state written to and read back from the store. */
    private List<PassState> runShards(PassSnapshotStore store, String runId, int shards) throws IOException {
        List<PassState> states = new ArrayList<>();
        for (ShardRange range : ShardRange.split(SyntheticPass.totalWindows(), shards, SyntheticPass.BATCH)) {
            CorpusPass pass = SyntheticPass.newPass();
            SyntheticPass.run(pass, range);
            store.save(runId, pass.state());
            states.add(store.latest(runId, range.shard(), shards).orElseThrow());
        }
        return states;
    }

    @Test
    void twoAndThreeShardsMergedInAnyOrderEmitTheOnePassRecords() throws IOException {
        PassResult[] expectedResult = new PassResult[1];
        List<NeuronActivations> expected = SyntheticPass.onePass(expectedResult);
        PassSnapshotStore store = new PassSnapshotStore(shared);
        for (int shards : new int[] {2, 3}) {
            String runId = "run-" + shards;
            List<PassState> states = runShards(store, runId, shards);
            assertTrue(states.stream().allMatch(s -> s.windows() > 0), "every shard has windows");
            Random random = new Random(shards);
            for (int trial = 0; trial < 3; trial++) {
                List<PassState> order = new ArrayList<>(states);
                Collections.shuffle(order, random);
                PassState merged = PassState.merge(order);
                SyntheticPass.assertSameCounts(expectedResult[0], merged.result());
                CorpusPass emitter = SyntheticPass.newPass();
                emitter.adopt(merged);
                SyntheticPass.assertSameRecords(expected, SyntheticPass.emit(emitter), shards + " shards, order " + trial);
            }
            // The store's one-shard-at-a-time merge is the same.
            CorpusPass emitter = SyntheticPass.newPass();
            emitter.adopt(store.merged(runId, shards).orElseThrow());
            SyntheticPass.assertSameRecords(expected, SyntheticPass.emit(emitter), shards + " shards via the store");
        }
    }

    @Test
    void theLastShardsOwnPassAdoptingTheMergeEmitsTheOnePassRecords() throws IOException {
        // As a producer group does it: the process that finishes the last shard merges with the pass it
        // ran, which holds the sample values and maxima of its own windows and none of the others'.
        List<NeuronActivations> expected = SyntheticPass.onePass(new PassResult[1]);
        PassSnapshotStore store = new PassSnapshotStore(shared);
        List<ShardRange> ranges = ShardRange.split(SyntheticPass.totalWindows(), 3, SyntheticPass.BATCH);
        CorpusPass last = null;
        for (ShardRange range : ranges) {
            last = SyntheticPass.newPass();
            SyntheticPass.run(last, range);
            store.save("run-own", last.state());
        }
        last.adopt(store.merged("run-own", 3).orElseThrow());
        SyntheticPass.assertSameRecords(expected, SyntheticPass.emit(last), "the last shard's own pass");
    }

    @Test
    void moreShardsThanBatchesLeavesSomeEmptyAndStillMergesToOnePass() throws IOException {
        PassResult[] expectedResult = new PassResult[1];
        List<NeuronActivations> expected = SyntheticPass.onePass(expectedResult);
        List<ShardRange> ranges = ShardRange.split(SyntheticPass.totalWindows(), 100, SyntheticPass.BATCH);
        assertTrue(ranges.stream().anyMatch(r -> r.windows() == 0) && ranges.get(0).windows() == 0, "empty shards: " + ranges);
        List<PassState> states = new ArrayList<>();
        for (ShardRange range : ranges) {
            CorpusPass pass = SyntheticPass.newPass();
            SyntheticPass.run(pass, range);
            states.add(pass.state());
        }
        CorpusPass emitter = SyntheticPass.newPass();
        emitter.adopt(PassState.merge(states));
        SyntheticPass.assertSameCounts(expectedResult[0], emitter.state().result());
        SyntheticPass.assertSameRecords(expected, SyntheticPass.emit(emitter), "100 shards");
    }

    @Test
    void aKilledShardIsResumedByAnotherProcessFromTheSharedFolder() throws IOException {
        PassResult[] expectedResult = new PassResult[1];
        List<NeuronActivations> expected = SyntheticPass.onePass(expectedResult);
        List<ShardRange> ranges = ShardRange.split(SyntheticPass.totalWindows(), 3, SyntheticPass.BATCH);
        PassSnapshotStore store = new PassSnapshotStore(shared);
        for (ShardRange range : ranges) {
            if (range.shard() == 1) {
                // Shard 1's first process dies part-way, after some snapshots.
                try (SnapshotWriter writer = store.writer("run-x")) {
                    CorpusPass doomed = SyntheticPass.newPass();
                    assertThrows(IOException.class, () -> {
                        try (WindowCutter cutter = doomed.cutter(SyntheticPass.corpusKilledAfter(60), range, 0)) {
                            doomed.run(cutter, range, "generated", () -> {}, PassProgress.NONE, writer, Duration.ZERO);
                        }
                    });
                }
                assertEquals(false, store.allDone("run-x", 3));
            }
            CorpusPass pass = SyntheticPass.newPass();
            store.latest("run-x", range.shard(), 3).ifPresent(pass::restore);
            try (SnapshotWriter writer = store.writer("run-x")) {
                SyntheticPass.run(pass, range, writer, Duration.ofMinutes(2));
            }
        }
        assertTrue(store.allDone("run-x", 3));
        assertTrue(store.tryClaimMerge("run-x", 1, 3));
        assertEquals(false, new PassSnapshotStore(shared).tryClaimMerge("run-x", 0, 3), "another shard's task loses the claim");
        assertTrue(new PassSnapshotStore(shared).tryClaimMerge("run-x", 1, 3), "the claimer's shard task, taken over, keeps it");
        CorpusPass emitter = SyntheticPass.newPass();
        emitter.adopt(PassState.merge(store.finished("run-x", 3).orElseThrow()));
        SyntheticPass.assertSameCounts(expectedResult[0], emitter.state().result());
        SyntheticPass.assertSameRecords(expected, SyntheticPass.emit(emitter), "resumed shard");
        store.delete("run-x");
        assertEquals(false, java.nio.file.Files.exists(store.runDir("run-x")));
    }

    @Test
    void mergeRefusesMissingUnfinishedAndMismatchedShards() throws IOException {
        List<PassState> states = runShards(new PassSnapshotStore(shared), "run-m", 3);
        assertEquals("2 shard states to merge, the run has 3 shards",
                assertThrows(IllegalArgumentException.class, () -> PassState.merge(states.subList(0, 2))).getMessage());
        List<PassState> twice = List.of(states.get(0), states.get(1), states.get(1));
        assertEquals("shard states to merge: expected shard 2 of 3, found " + states.get(1).range(),
                assertThrows(IllegalArgumentException.class, () -> PassState.merge(twice)).getMessage());

        List<PassState> partial = new ArrayList<>();
        CorpusPass pass = SyntheticPass.newPass();
        SyntheticPass.run(pass, states.get(2).range(), partial::add, Duration.ZERO);
        List<PassState> unfinished = List.of(states.get(0), states.get(1), partial.get(0));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PassState.merge(unfinished)).getMessage()
                .startsWith("shard state " + states.get(2).range() + " is not finished"));

        CorpusPass otherLayers = new CorpusPass(new SyntheticModel(3, SyntheticPass.NEURONS), new CharTokenizer(),
                new int[] {0, 2}, SyntheticPass.SETTINGS, SyntheticPass.FINGERPRINT, SyntheticPass.BATCH);
        SyntheticPass.run(otherLayers, states.get(2).range());
        List<PassState> mixed = List.of(states.get(0), states.get(1), otherLayers.state());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PassState.merge(mixed)).getMessage()
                .startsWith("pass states differ: layers [2, 0]"));
    }
}
