package io.neuronexplainer.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Shards tile the corpus on batch boundaries, as evenly as whole batches allow. */
class ShardRangeTest {

    @Test
    void shardsTileTheWindowsOnBatchMultiples() {
        for (long total : new long[] {0, 1, 7, 64, 1000, 1003, 10_007}) {
            for (int shards = 1; shards <= 5; shards++) {
                for (int batch : new int[] {1, 8, 32}) {
                    List<ShardRange> ranges = ShardRange.split(total, shards, batch);
                    assertEquals(shards, ranges.size());
                    long from = 0;
                    for (ShardRange r : ranges) {
                        assertEquals(from, r.from());
                        assertEquals(shards, r.shards());
                        assertEquals(0, r.from() % batch == 0 || r.from() == total ? 0 : 1, "from on a batch: " + r);
                        from = r.to();
                    }
                    assertEquals(total, from);
                    long batches = (total + batch - 1) / batch;
                    for (ShardRange r : ranges) {
                        long rangeBatches = (r.windows() + batch - 1) / batch;
                        assertEquals(true, Math.abs(rangeBatches - (double) batches / shards) < 1.0 + 1e-9,
                                "even split: " + r + " of " + total + " by " + batch);
                    }
                }
            }
        }
    }

    @Test
    void example() {
        assertEquals(List.of(new ShardRange(0, 3, 0, 32), new ShardRange(1, 3, 32, 64), new ShardRange(2, 3, 64, 100)),
                ShardRange.split(100, 3, 8));
    }

    @Test
    void refusesBadShards() {
        assertEquals("shard 3 of 3: needs 0 <= shard < shards",
                assertThrows(IllegalArgumentException.class, () -> new ShardRange(3, 3, 0, 1)).getMessage());
        assertEquals("shard 0 of 2: bad window range [5, 4)",
                assertThrows(IllegalArgumentException.class, () -> new ShardRange(0, 2, 5, 4)).getMessage());
    }
}
