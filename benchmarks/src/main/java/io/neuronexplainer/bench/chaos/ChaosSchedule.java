package io.neuronexplainer.bench.chaos;

import java.util.ArrayList;
import java.util.List;

/**
 * The faults of a chaos run in the order they happen, each due once a share of the neurons is
 * scored (from 5% to 75%), so that they land while neurons flow however fast this machine is:
 * the kills, explainer and simulator process in turn, with the poison early, the broker's stop
 * about two fifths in and the registry's restart about two thirds in.
 */
final class ChaosSchedule {
    /** One kind of fault. */
    enum Fault { KILL_EXPLAINER, KILL_SIMULATOR, POISON, BROKER_RESTART, REGISTRY_RESTART }

    /** A fault and the share of neurons scored before it is due. */
    record Step(Fault fault, double scoredShare) {}

    private ChaosSchedule() {}

    static List<Step> plan(int kills) {
        int n = kills + 3;
        Fault[] slots = new Fault[n];
        place(slots, 1, Fault.POISON);
        place(slots, (int) Math.round(n * 0.4), Fault.BROKER_RESTART);
        place(slots, (int) Math.round(n * 0.65), Fault.REGISTRY_RESTART);
        boolean explainer = true;
        for (int i = 0; i < n; i++) {
            if (slots[i] == null) {
                slots[i] = explainer ? Fault.KILL_EXPLAINER : Fault.KILL_SIMULATOR;
                explainer = !explainer;
            }
        }
        List<Step> steps = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            steps.add(new Step(slots[i], 0.05 + 0.70 * i / Math.max(1, n - 1)));
        }
        return steps;
    }

    /** Puts {@code fault} at slot {@code at}, or at the next free one. */
    private static void place(Fault[] slots, int at, Fault fault) {
        for (int i = 0; i < slots.length; i++) {
            int slot = (at + i) % slots.length;
            if (slots[slot] == null) {
                slots[slot] = fault;
                return;
            }
        }
    }
}
