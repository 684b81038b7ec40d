package io.neuronexplainer.producer;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import io.neuronexplainer.producer.sampling.LayerTopK;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.producer.sampling.TopWindowTokens;
import io.neuronexplainer.producer.sampling.WindowReservoir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Measures a gpt2-small-shaped pass state (12 layers x 3,072 neurons, top 20 of 64-token
 * windows, random values): file size, the snapshot copy's pause, write and read times. Not a
 * test of anything (not named *Test, so a plain build skips it): run it with
 * {@code ./mvnw -o -q -pl activation-producer -am test -Dtest=PassStateBenchmark -Dsurefire.failIfNoSpecifiedTests=false}
 * and read its output.
 */
class PassStateBenchmark {
    static final int LAYERS = 12;
    static final int NEURONS = 3072;
    static final int TOKENS = 64;
    /** Distinct windows whose ids a snapshot holds: ~ every window of a 10M-token corpus, an upper bound. */
    static final int KEPT_WINDOWS = 150_000;

    @Test
    void gpt2SmallShape() throws IOException {
        main(new String[0]);
    }

    public static void main(String[] args) throws IOException {
        SamplingSettings settings = SamplingSettings.defaults();
        SplittableRandom random = new SplittableRandom(1);
        List<LayerTopK> tops = new ArrayList<>();
        float[] block = new float[TOKENS * NEURONS];
        int[] layers = new int[LAYERS];
        for (int l = 0; l < LAYERS; l++) {
            layers[l] = l;
            LayerTopK top = new LayerTopK(NEURONS, settings.topK(), TOKENS);
            for (int w = 0; w < 2 * settings.topK(); w++) {
                for (int i = 0; i < block.length; i++) {
                    block[i] = (float) random.nextGaussian();
                }
                top.offer(block, 1, random.nextLong(KEPT_WINDOWS));
            }
            tops.add(top);
        }
        WindowReservoir reservoir = new WindowReservoir(settings.reservoirSize(), settings.seed());
        TopWindowTokens tokens = new TopWindowTokens();
        for (int w = 0; w < KEPT_WINDOWS; w++) {
            int[] ids = new int[TOKENS];
            for (int t = 0; t < TOKENS; t++) {
                ids[t] = random.nextInt(50257);
            }
            CorpusWindow window = new CorpusWindow(w, ids);
            tokens.add(window);
            reservoir.offer(window);
        }
        PassState state = new PassState(settings, 32, layers, NEURONS, new ShardRange(0, 1, 0, KEPT_WINDOWS),
                KEPT_WINDOWS, false, tops, reservoir, tokens, 50_000, KEPT_WINDOWS, 123_456, 3600);

        long topBytes = LAYERS * LayerTopK.serializedBytes(NEURONS, settings.topK(), TOKENS);
        System.out.printf("state file: %s (top-K tables %s, %d windows' token ids %s)%n", PassState.mib(state.fileBytes()),
                PassState.mib(topBytes), KEPT_WINDOWS, PassState.mib(tokens.serializedBytes(TOKENS)));

        Path dir = Files.createTempDirectory(Path.of("target"), "pass-state-bench");
        Path file = dir.resolve("shard-0-of-1.state");
        for (int round = 0; round < 6; round++) {
            // What CorpusPass does on its thread per snapshot: prune the ids to kept windows, copy.
            TopWindowTokens pruned = tokens.copy();
            long t0 = System.nanoTime();
            pruned.prune(tops);
            long gc0 = gcMillis();
            long t1 = System.nanoTime();
            PassState copy = state.copy();
            long t2 = System.nanoTime();
            long gcCopy = gcMillis() - gc0;
            long bytes = copy.write(file);
            long t3 = System.nanoTime();
            PassState back = PassState.read(file);
            long t4 = System.nanoTime();
            System.out.printf("round %d: prune %.0f ms (%d of %d windows kept), copy %.0f ms (of which GC %d ms), write %s %.0f ms "
                            + "(%.0f MB/s, with fsync), read+verify %.0f ms%n", round, (t1 - t0) / 1e6, pruned.size(),
                    tokens.size(), (t2 - t1) / 1e6, gcCopy, PassState.mib(bytes), (t3 - t2) / 1e6,
                    bytes / 1e6 / ((t3 - t2) / 1e9), (t4 - t3) / 1e6);
            if (back.windows() != state.windows()) {
                throw new IllegalStateException("read back another state");
            }
        }
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
        System.out.printf("heap max %d MiB, collectors %s%n", Runtime.getRuntime().maxMemory() >> 20,
                java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream().map(b -> b.getName()).toList());
    }

    private static long gcMillis() {
        return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum();
    }
}
