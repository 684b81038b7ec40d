package io.neuronexplainer.producer.sampling;

import io.neuronexplainer.producer.corpus.CorpusWindow;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A seeded uniform random sample of the windows of a stream of unknown length (reservoir
 * sampling, Vitter's Algorithm R), shared by all neurons. It keeps only the windows' token ids;
 * their activations are recomputed at the end (one small batch), so its memory does not grow
 * with the model's width either. The slots hold a uniformly random ordered sample (shuffled as
 * they fill), so any prefix of them is a uniform sample too: a neuron can skip sampled windows
 * it already uses and take the next slots without bias.
 */
public final class WindowReservoir {
    private final CorpusWindow[] slots;
    private final SplittableRandom random;
    private long seen;

    public WindowReservoir(int capacity, long seed) {
        if (capacity < 0) {
            throw new IllegalArgumentException("random sample size must be >= 0, not " + capacity);
        }
        this.slots = new CorpusWindow[capacity];
        this.random = new SplittableRandom(seed);
    }

    public void offer(CorpusWindow window) {
        if (seen < slots.length) {
            // Filling: insert at a random slot (inside-out Fisher-Yates), so the slots hold a
            // uniformly random ORDERED sample, and every prefix of them is a uniform sample too.
            int j = (int) random.nextLong(seen + 1);
            slots[(int) seen] = slots[j];
            slots[j] = window;
        } else {
            long j = random.nextLong(seen + 1);
            if (j < slots.length) {
                slots[(int) j] = window;
            }
        }
        seen++;
    }

    /** The sample in slot order: every window when fewer than the capacity were offered. */
    public List<CorpusWindow> sample() {
        return new ArrayList<>(Arrays.asList(slots).subList(0, (int) Math.min(seen, slots.length)));
    }

    public long seen() {
        return seen;
    }
}
