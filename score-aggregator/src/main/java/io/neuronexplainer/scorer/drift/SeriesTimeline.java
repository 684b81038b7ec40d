package io.neuronexplainer.scorer.drift;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Where a checkpoint falls among a neuron's checkpoints of one series, in training-step order
 * (ties and unknown steps by name), and which consecutive pairs that changes: a checkpoint that
 * arrives late sits between two that were paired, so that pair is retracted and the two pairs
 * around it are computed. A checkpoint seen again (another record of it) recomputes its pairs.
 */
public final class SeriesTimeline {
    /** One checkpoint of the series. */
    public record Point(String checkpoint, long step) {}

    /** Two consecutive checkpoints, earlier first. */
    public record Pair(Point from, Point to) {}

    /** Pairs to compute (or compute again) and pairs no longer consecutive. */
    public record Change(List<Pair> computed, List<Pair> retracted) {}

    public static final Comparator<Point> ORDER = Comparator.comparingLong(Point::step).thenComparing(Point::checkpoint);

    private SeriesTimeline() {}

    /**
     * The change {@code added} makes to the timeline {@code known} (the checkpoints seen before it,
     * in any order; it may be among them).
     */
    public static Change place(List<Point> known, Point added) {
        List<Point> others = new ArrayList<>();
        for (Point p : known) {
            if (!p.checkpoint().equals(added.checkpoint())) {
                others.add(p);
            }
        }
        others.sort(ORDER);
        Optional<Point> before = others.stream().filter(p -> ORDER.compare(p, added) < 0).reduce((a, b) -> b);
        Optional<Point> after = others.stream().filter(p -> ORDER.compare(p, added) > 0).findFirst();
        List<Pair> computed = new ArrayList<>();
        before.ifPresent(b -> computed.add(new Pair(b, added)));
        after.ifPresent(a -> computed.add(new Pair(added, a)));
        boolean seenBefore = known.stream().anyMatch(p -> p.checkpoint().equals(added.checkpoint()));
        List<Pair> retracted = new ArrayList<>();
        if (!seenBefore && before.isPresent() && after.isPresent()) {
            retracted.add(new Pair(before.get(), after.get()));
        }
        return new Change(computed, retracted);
    }
}
