package io.neuronexplainer.bench.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.neuronexplainer.bench.chaos.ChaosSchedule.Fault;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The schedule has every fault once (kills as asked, explainer and simulator in turn), due at rising shares. */
class ChaosScheduleTest {
    @Test
    void everyFaultOnceKillsInTurnAtRisingShares() {
        for (int kills : new int[] {0, 2, 5, 9}) {
            List<ChaosSchedule.Step> plan = ChaosSchedule.plan(kills);
            List<Fault> faults = plan.stream().map(ChaosSchedule.Step::fault).toList();
            assertEquals(kills + 3, plan.size());
            assertEquals(1, faults.stream().filter(f -> f == Fault.POISON).count());
            assertEquals(1, faults.stream().filter(f -> f == Fault.BROKER_RESTART).count());
            assertEquals(1, faults.stream().filter(f -> f == Fault.REGISTRY_RESTART).count());
            List<Fault> killed = faults.stream().filter(f -> f == Fault.KILL_EXPLAINER || f == Fault.KILL_SIMULATOR).toList();
            assertEquals(kills, killed.size());
            for (int i = 0; i < killed.size(); i++) {
                assertEquals(i % 2 == 0 ? Fault.KILL_EXPLAINER : Fault.KILL_SIMULATOR, killed.get(i));
            }
            for (int i = 1; i < plan.size(); i++) {
                assertTrue(plan.get(i).scoredShare() > plan.get(i - 1).scoredShare());
            }
            assertTrue(plan.get(0).scoredShare() >= 0.05 && plan.get(plan.size() - 1).scoredShare() <= 0.75 + 1e-9);
        }
    }
}
