package io.neuronexplainer.explainer;

import io.neuronexplainer.schemas.Identities;
import java.util.ArrayList;
import java.util.List;

/** The scorer kinds an explanation is sent to (--scorers): simulation, detection, fuzzing, in that order. */
public record Scorers(List<String> kinds) {
    /** The paper's method only, as before detection and fuzzing existed. */
    public static final Scorers DEFAULT = new Scorers(List.of(Identities.SIMULATION_SCORER));

    public Scorers {
        kinds = List.copyOf(kinds);
    }

    /**
     * Reads a comma-separated list, e.g. "simulation,detection,fuzzing"; an unknown or empty
     * list gives an IllegalArgumentException with one line naming the choices.
     */
    public static Scorers parse(String text) {
        List<String> kinds = new ArrayList<>();
        for (String part : (text == null ? "" : text).split(",")) {
            String kind = part.strip().toLowerCase(java.util.Locale.ROOT);
            if (kind.isEmpty()) {
                continue;
            }
            if (!Identities.SCORER_KINDS.contains(kind)) {
                throw new IllegalArgumentException("--scorers takes " + String.join(", ", Identities.SCORER_KINDS)
                        + " (comma-separated), got '" + part.strip() + "'");
            }
            if (!kinds.contains(kind)) {
                kinds.add(kind);
            }
        }
        if (kinds.isEmpty()) {
            throw new IllegalArgumentException("--scorers needs at least one of " + String.join(", ", Identities.SCORER_KINDS));
        }
        // Listed in the canonical order, so the same choice always makes the same outputs in the same order.
        kinds.sort(java.util.Comparator.comparingInt(Identities.SCORER_KINDS::indexOf));
        return new Scorers(kinds);
    }

    public boolean has(String kind) {
        return kinds.contains(kind);
    }

    @Override
    public String toString() {
        return String.join(",", kinds);
    }
}
