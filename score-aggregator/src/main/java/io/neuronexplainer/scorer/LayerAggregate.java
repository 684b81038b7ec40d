package io.neuronexplainer.scorer;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;

/**
 * Scores of one (model, checkpoint, layer)'s neurons, one best score per neuron: count, mean,
 * quantiles and how many reach 0.8.
 *
 * <p>Quantiles come from a fixed histogram of 200 bins over [-1, 1] (bin width 0.01, so a quantile
 * is within 0.005 after interpolation) rather than a t-digest: correlations are bounded, and a
 * neuron's contribution must be removable exactly when its best explanation changes (a t-digest
 * cannot subtract). The sum is kept in fixed point (1e-9 units) so that removing a contribution
 * restores the previous mean exactly, with no floating-point drift.
 */
public final class LayerAggregate {
    public static final int BINS = 200;
    public static final double GOOD = 0.8;
    private static final double FIXED = 1e9;

    private final String model;
    private final String checkpoint;
    private final int layer;
    private long count;
    private long sumFixed;
    private long atLeastGood;
    private final long[] bins;

    public LayerAggregate(String model, String checkpoint, int layer) {
        this(model, checkpoint, layer, 0, 0, 0, new long[BINS]);
    }

    @JsonCreator
    public LayerAggregate(@JsonProperty("model") String model, @JsonProperty("checkpoint") String checkpoint,
                          @JsonProperty("layer") int layer, @JsonProperty("count") long count,
                          @JsonProperty("sum_fixed") long sumFixed, @JsonProperty("at_least_0_8") long atLeastGood,
                          @JsonProperty("bins") long[] bins) {
        this.model = model;
        this.checkpoint = checkpoint;
        this.layer = layer;
        this.count = count;
        this.sumFixed = sumFixed;
        this.atLeastGood = atLeastGood;
        this.bins = bins == null || bins.length != BINS ? new long[BINS] : bins;
    }

    /** Adds one neuron's best score. */
    public LayerAggregate add(double score) {
        count++;
        sumFixed += Math.round(score * FIXED);
        if (score >= GOOD) {
            atLeastGood++;
        }
        bins[bin(score)]++;
        return this;
    }

    /** Removes a score added before (the neuron's previous best). */
    public LayerAggregate remove(double score) {
        count--;
        sumFixed -= Math.round(score * FIXED);
        if (score >= GOOD) {
            atLeastGood--;
        }
        bins[bin(score)]--;
        return this;
    }

    static int bin(double score) {
        double clamped = Math.max(-1, Math.min(1, score));
        return Math.min(BINS - 1, (int) Math.floor((clamped + 1) / 2 * BINS));
    }

    /** The q-quantile (0..1), interpolated linearly inside its bin; 0 when empty. */
    public double quantile(double q) {
        if (count <= 0) {
            return 0;
        }
        double target = q * count;
        long seen = 0;
        for (int i = 0; i < BINS; i++) {
            if (bins[i] == 0) {
                continue;
            }
            if (seen + bins[i] >= target) {
                double within = (target - seen) / bins[i];
                return -1 + (i + within) * 2.0 / BINS;
            }
            seen += bins[i];
        }
        return 1;
    }

    @JsonProperty("mean")
    public double mean() {
        return count == 0 ? 0 : sumFixed / FIXED / count;
    }

    @JsonProperty("p10")
    public double p10() {
        return quantile(0.1);
    }

    @JsonProperty("p50")
    public double p50() {
        return quantile(0.5);
    }

    @JsonProperty("p90")
    public double p90() {
        return quantile(0.9);
    }

    @JsonProperty("model")
    public String model() {
        return model;
    }

    @JsonProperty("checkpoint")
    public String checkpoint() {
        return checkpoint;
    }

    @JsonProperty("layer")
    public int layer() {
        return layer;
    }

    @JsonProperty("count")
    public long count() {
        return count;
    }

    @JsonProperty("at_least_0_8")
    public long atLeastGood() {
        return atLeastGood;
    }

    @JsonProperty("sum_fixed")
    public long sumFixed() {
        return sumFixed;
    }

    @JsonProperty("bins")
    public long[] bins() {
        return bins.clone();
    }

    /** The bins themselves, not a copy, for the serde. */
    long[] binsView() {
        return bins;
    }

    @JsonIgnore
    public boolean isEmpty() {
        return count == 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerAggregate a && a.layer == layer && a.model.equals(model)
                && a.checkpoint.equals(checkpoint) && a.count == count && a.sumFixed == sumFixed
                && a.atLeastGood == atLeastGood && Arrays.equals(a.bins, bins);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bins) * 31 + Long.hashCode(sumFixed);
    }
}
