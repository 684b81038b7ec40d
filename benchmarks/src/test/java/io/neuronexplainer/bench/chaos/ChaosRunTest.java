package io.neuronexplainer.bench.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench chaos} reduced: 100 neurons through the real producer, three brokers, the registry
 * and the faulty LLM, with two kill -9s of worker processes (explainer, then simulator), one broker
 * stopped and started, one registry restart and 50 undecodable records per consumed topic; every
 * neuron is scored exactly once and the dead letters are exactly the injected records.
 */
class ChaosRunTest {
    @Test
    void everyNeuronScoredOnceThroughKillsBrokerAndRegistryRestartsAndPoison(@TempDir Path dir) throws Exception {
        // The pace: 3 workers per stage with 1 call in flight and a 1.5 s LLM take about 70 s over 100 neurons
        // on 2 busy cores, long enough for the five faults (about 55 s in all) to land while neurons flow.
        ChaosSettings settings = new ChaosSettings(100, 2, 7, 0.05, 300, 1500, 1, 4, 8, 100, 10, 10, 50, 6, 240, dir);
        ChaosRun.Outcome outcome = new ChaosRun(settings, System.out).run();
        System.out.println(outcome.lastLine());
        assertEquals(0, outcome.lost(), outcome::lastLine);
        assertEquals(0, outcome.duplicated(), outcome::lastLine);
        assertEquals(100, outcome.scores().scoredOnce(), outcome::lastLine);
        assertEquals(200, outcome.expectedDeadLetters(), outcome::lastLine);
        assertEquals(200, outcome.deadLetters().matched(), outcome::lastLine);
        assertEquals(200, outcome.deadLetters().deadLetters(), outcome::lastLine);
        assertEquals(2, outcome.kills());
        assertEquals(1, outcome.brokerRestarts());
        assertEquals(1, outcome.registryRestarts());
        assertTrue(outcome.holds(), outcome.failure());
    }
}
