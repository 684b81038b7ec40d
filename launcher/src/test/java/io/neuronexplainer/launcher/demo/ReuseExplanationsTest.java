package io.neuronexplainer.launcher.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.explainer.ExplainerWorker;
import io.neuronexplainer.explainer.TokenPatternExplainer;
import io.neuronexplainer.producer.CheckpointRunner;
import io.neuronexplainer.producer.ProgressReporter;
import io.neuronexplainer.producer.corpus.CorpusSource;
import io.neuronexplainer.producer.model.DefaultModel;
import io.neuronexplainer.producer.sampling.SamplingSettings;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.TopicSnapshot;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.runtime.worker.TransactionalWorker;
import io.neuronexplainer.schemas.Explanation;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.scorer.Scorer;
import io.neuronexplainer.scorer.ScorerSettings;
import io.neuronexplainer.simulator.SimulatorWorker;
import io.neuronexplainer.simulator.TokenPatternSimulator;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --reuse-explanations} on the real demo checkpoints: a neuron whose carried explanation
 * keeps its score is not explained again (it keeps that explanation and its carried score); a
 * neuron that changed is.
 */
class ReuseExplanationsTest {
    static final double THRESHOLD = 0.9;
    static final int PER_CHECKPOINT = 16;

    @Test
    void anUnchangedNeuronKeepsItsExplanationAndAChangedOneIsExplainedAgain(@TempDir Path dir) throws Exception {
        Path demo = DefaultModel.folder().getParent();
        Path tokenizer = demo.resolve("tokenizer.json");
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 3, (short) 1, 30_000);
            }
            var meters = new SimpleMeterRegistry();
            try (Scorer scorer = Scorer.start(clients, ScorerSettings.defaults("reuse-test", dir.resolve("state"))
                    .withHttpPort(-1).withOverrides(Map.of("commit.interval.ms", 200)).withReuse(THRESHOLD), meters)) {
                TransactionalWorker<?, ?> explainers = ExplainerWorker.create(clients, ExplainerWorker.reuseSettings(8),
                        new TokenPatternExplainer(), meters);
                TransactionalWorker<?, ?> simulators = SimulatorWorker.create(clients, SimulatorWorker.settings(8),
                        new TokenPatternSimulator(), meters);
                Thread e = new Thread(explainers::run, "explainer");
                Thread s = new Thread(simulators::run, "simulator");
                e.start();
                s.start();
                try {
                    CheckpointRunner runner = new CheckpointRunner(clients, CorpusSource.of(null), null,
                            SamplingSettings.defaults(), 200, 16, "0:0-7,5:0-7", null, true, ProgressReporter::forThisProcess);
                    // An identical copy of final (nothing changed), then the early weights again (much changed).
                    runner.run(new CheckpointRunner.Checkpoint(demo.resolve("final"), tokenizer, "demo-gpt2", "final", 6000L));
                    runner.run(new CheckpointRunner.Checkpoint(demo.resolve("final"), tokenizer, "demo-gpt2", "final-again", 7000L));
                    runner.run(new CheckpointRunner.Checkpoint(demo.resolve("step-000300"), tokenizer, "demo-gpt2", "changed", 8000L));
                    try (DriftReport report = new DriftReport(clients)) {
                        assertTrue(report.await("demo-gpt2", 2L * PER_CHECKPOINT, 180_000_000_000L),
                                "every pair decided and scored: " + report.complete("demo-gpt2"));
                        check(report, clients);
                    }
                } finally {
                    explainers.stop();
                    simulators.stop();
                    e.join(30_000);
                    s.join(30_000);
                }
            }
        }
    }

    private static void check(DriftReport report, KafkaClients clients) {
        Map<String, Set<String>> explainedPerCheckpoint = new HashMap<>();
        for (ConsumerRecord<NeuronKey, Explanation> r
                : TopicSnapshot.read(clients, Topics.NEURON_EXPLANATIONS, NeuronKey.class, Explanation.class)) {
            explainedPerCheckpoint.computeIfAbsent(r.key().getCheckpoint(), c -> new HashSet<>()).add(neuron(r.key()));
        }
        Map<String, NeuronScore> best = new HashMap<>();
        for (ConsumerRecord<NeuronKey, NeuronScore> r
                : TopicSnapshot.read(clients, Topics.NEURON_BEST_SCORES, NeuronKey.class, NeuronScore.class)) {
            best.put(r.key().getCheckpoint() + "/" + neuron(r.key()), r.value());
        }
        assertEquals(PER_CHECKPOINT, explainedPerCheckpoint.get("final").size(), "the first checkpoint: every neuron explained");
        int reused = 0;
        int explainedAgain = 0;
        for (NeuronDrift d : report.of("demo-gpt2")) {
            String n = d.getKey().getLayer() + ":" + d.getKey().getNeuron();
            String to = d.getKey().getToCheckpoint();
            boolean holds = d.getFromBest() > 0 && d.getCarriedCorrelation() >= THRESHOLD * d.getFromBest();
            boolean explained = explainedPerCheckpoint.getOrDefault(to, Set.of()).contains(n);
            NeuronScore toBest = best.get(to + "/" + n);
            assertTrue(toBest != null, "every neuron of " + to + " has a best score: " + n);
            if (holds) {
                reused++;
                assertTrue(!explained, n + " at " + to + " keeps its explanation: no explainer call");
                assertEquals(d.getKey().getFromCheckpoint(), toBest.getCarriedFrom(), "its best is the carried score");
                assertEquals(best.get(d.getKey().getFromCheckpoint() + "/" + n).getExplanationId(), toBest.getExplanationId());
                assertEquals(d.getCarriedCorrelation(), toBest.getCorrelation(), 1e-9);
            } else {
                explainedAgain++;
                assertTrue(explained, n + " at " + to + " changed (carried " + d.getCarriedCorrelation() + " of " + d.getFromBest()
                        + "): explained again");
                assertEquals(null, toBest.getCarriedFrom());
            }
        }
        int positive = (int) report.of("demo-gpt2").stream().filter(d -> d.getKey().getToCheckpoint().equals("final-again")
                && d.getFromBest() > 0).count();
        assertTrue(positive > 0 && reused >= positive, "every neuron of the identical copy with a positive score is reused: "
                + reused + " of " + positive);
        assertTrue(explainedAgain > 0, "the changed checkpoint has neurons explained again");
    }

    private static String neuron(NeuronKey k) {
        return k.getLayer() + ":" + k.getNeuron();
    }
}
