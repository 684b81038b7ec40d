package io.neuronexplainer.scorer;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.Options;

/**
 * The scorer's RocksDB stores keep values of 1 KB and more in blob files beside the LSM tree
 * (RocksDB's integrated BlobDB), so compaction rewrites keys and file pointers instead of a
 * neuron's 13 KB of activations and its simulations' kilobytes of predictions. A scorer holding a
 * hundred thousand neurons spent over a quarter of its CPU compacting (`rocksdb:low` and
 * `rocksdb:high` threads in /proc) while its stream threads took a third. Small values (scores,
 * waiting marks, aggregates) stay in the tree.
 */
public final class LargeValueStores implements RocksDBConfigSetter {
    static final long MIN_BLOB_BYTES = 1024;

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        options.setEnableBlobFiles(true);
        options.setMinBlobSize(MIN_BLOB_BYTES);
        // No blob garbage collection: it would relocate the live values of the oldest blob files at
        // every compaction touching them, the rewriting this avoids. The stores mostly add values; a
        // blob file whose values are all overwritten or deleted is dropped without it.
    }

    @Override
    public void close(String storeName, Options options) {}
}
