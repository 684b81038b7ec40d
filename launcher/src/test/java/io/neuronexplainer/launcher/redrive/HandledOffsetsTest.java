package io.neuronexplainer.launcher.redrive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.Test;

/** What redrive remembers per dead-letter partition, and how it survives the round trip through a commit. */
class HandledOffsetsTest {

    @Test
    void lettersLeftBehindKeepTheOffsetAndLaterOnesGoToTheMetadata() {
        HandledOffsets h = HandledOffsets.of(null, 10);
        assertTrue(h.tryAdd(10, 11));
        assertEquals(11, h.next());
        assertTrue(h.tryAdd(12, 13));
        assertTrue(h.tryAdd(14, 16));
        assertTrue(h.tryAdd(13, 14)); // joins 12 and 14-15
        assertEquals(new OffsetAndMetadata(11, "redriven:12-15"), h.toCommit());
        assertFalse(h.contains(11));
        assertTrue(h.contains(5) && h.contains(12) && h.contains(15));
        assertFalse(h.contains(16));

        HandledOffsets again = HandledOffsets.of(h.toCommit(), 0);
        assertEquals(11, again.next());
        assertTrue(again.contains(13));
        assertTrue(again.tryAdd(11, 12)); // the letter left behind, redriven later: everything up to 15 done
        assertEquals(new OffsetAndMetadata(16, ""), again.toCommit());
    }

    @Test
    void refusesToRememberMoreThanACommitHolds() {
        HandledOffsets h = HandledOffsets.of(null, 0);
        long offset = 1;
        while (h.tryAdd(offset, offset + 1)) {
            offset += 2; // every other letter left behind: one range each
        }
        String metadata = h.toCommit().metadata();
        assertTrue(metadata.length() <= HandledOffsets.MAX_METADATA_CHARS, metadata.length() + " chars");
        assertFalse(h.contains(offset));
        assertTrue(h.tryAdd(0, 1), "the first letter left behind, handled: the commit shrinks");
        assertEquals(2, h.next());
    }
}
