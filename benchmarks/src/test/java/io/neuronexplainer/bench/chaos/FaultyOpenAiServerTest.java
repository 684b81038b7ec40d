package io.neuronexplainer.bench.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.explainer.Explainer;
import io.neuronexplainer.explainer.ExplainerBackendOptions;
import io.neuronexplainer.runtime.test.SampleRecords;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The faulty LLM faults the share of calls it is asked to, all four kinds alike, and each fault is
 * one the real LLM client retries: with enough attempts every call gets its answer.
 */
class FaultyOpenAiServerTest {
    @Test
    void faultsTheAskedShareOfCallsInFourKinds() throws Exception {
        try (FaultyOpenAiServer server = FaultyOpenAiServer.start(1, 10, 0.05, 42, 4)) {
            Map<FaultyOpenAiServer.Fault, Integer> kinds = new EnumMap<>(FaultyOpenAiServer.Fault.class);
            int calls = 100_000;
            for (long call = 1; call <= calls; call++) {
                FaultyOpenAiServer.Fault f = server.faultOf(call);
                if (f != null) {
                    kinds.merge(f, 1, Integer::sum);
                }
            }
            int faults = kinds.values().stream().mapToInt(Integer::intValue).sum();
            assertEquals(0.05, faults / (double) calls, 0.005);
            assertEquals(4, kinds.size());
            kinds.values().forEach(n -> assertTrue(Math.abs(n - faults / 4.0) < faults * 0.1, kinds.toString()));
        }
    }

    @Test
    void everyFaultIsRetriedUntilTheAnswer() throws Exception {
        // Half the calls fault; a held call outlasts the client's 1 s timeout.
        try (FaultyOpenAiServer server = FaultyOpenAiServer.start(1, 1500, 0.5, 3, 8);
             Explainer explainer = ExplainerBackendOptions.openai(server.baseUrl(), "chaos-explainer").retries(12, 10, 1)
                     .create(new SimpleMeterRegistry())) {
            for (int i = 0; i < 12; i++) {
                String text = explainer.explain(SampleRecords.activations(SampleRecords.key(1, i))).get(60, TimeUnit.SECONDS).text();
                assertTrue(text.contains("animals"), text);
            }
            assertTrue(server.calls() > 12, "some calls faulted: " + server.summary());
        }
    }
}
