package io.neuronexplainer.scorer;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.Options;

/**
 * The scorer's RocksDB stores keep values of 1 KB and more in blob files beside the LSM tree
 * (RocksDB's integrated BlobDB), so compaction rewrites keys and file pointers instead of a
 * neuron's 13 KB of activations and its simulations' kilobytes of predictions. A scorer holding
 * 100,000+ neurons spent 21-24% of its CPU in RocksDB's compaction threads ({@code rocksdb:low} in
 * /proc). Smaller values (most scores, waiting marks, aggregates) stay in the tree. The cost: a
 * scan that reads every value of a store (the neurons listing, an orphan's runs) fetches each
 * from its blob file.
 */
public final class LargeValueStores implements RocksDBConfigSetter {
    static final long MIN_BLOB_BYTES = 1024;

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        options.setEnableBlobFiles(true);
        options.setMinBlobSize(MIN_BLOB_BYTES);
        // No blob garbage collection: it relocates the live values of the oldest quarter of the blob
        // files whenever compaction reaches their keys, the rewriting this avoids. The stores mostly
        // add values: a blob file whose values are all overwritten or deleted is still dropped, one
        // that holds some stale values keeps them (a rerun of a run with the same identity leaves at
        // most one stale copy of its activations).
    }

    @Override
    public void close(String storeName, Options options) {}
}
