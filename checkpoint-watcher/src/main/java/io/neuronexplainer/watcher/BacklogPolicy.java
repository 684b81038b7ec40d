package io.neuronexplainer.watcher;

import java.util.Comparator;
import java.util.List;

/**
 * Which of the checkpoints found are released, and in what order: only steps from
 * {@code --from-step}, only every {@code --every}-th step, oldest or newest first. Checkpoints
 * with no known step pass the step filters and come after those with one, by name.
 */
public record BacklogPolicy(Long fromStep, Long every, Order order) {
    /** Release order of the checkpoints found in one poll. */
    public enum Order { OLDEST_FIRST, NEWEST_FIRST }

    public static final BacklogPolicy ALL_OLDEST_FIRST = new BacklogPolicy(null, null, Order.OLDEST_FIRST);

    public BacklogPolicy {
        if (every != null && every <= 0) {
            throw new IllegalArgumentException("--every must be positive, not " + every);
        }
        if (order == null) {
            order = Order.OLDEST_FIRST;
        }
    }

    public boolean accepts(CheckpointCandidate c) {
        if (c.step() == null) {
            return true;
        }
        return (fromStep == null || c.step() >= fromStep) && (every == null || c.step() % every == 0);
    }

    /** The accepted candidates in release order. */
    public List<CheckpointCandidate> select(List<CheckpointCandidate> found) {
        Comparator<CheckpointCandidate> byStep = Comparator.comparing(CheckpointCandidate::step,
                order == Order.OLDEST_FIRST ? Comparator.naturalOrder() : Comparator.reverseOrder());
        Comparator<CheckpointCandidate> ordered = Comparator
                .comparing((CheckpointCandidate c) -> c.step() == null)
                .thenComparing((a, b) -> a.step() == null ? 0 : byStep.compare(a, b))
                .thenComparing(CheckpointCandidate::name);
        return found.stream().filter(this::accepts).sorted(ordered).toList();
    }
}
