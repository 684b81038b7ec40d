package io.neuronexplainer.launcher.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronDrift;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.schemas.WindowMax;
import io.neuronexplainer.scorer.Exporter;
import io.neuronexplainer.scorer.HeadlessChromium;
import io.neuronexplainer.scorer.Scorer;
import io.neuronexplainer.scorer.ScorerSettings;
import io.neuronexplainer.scorer.drift.DriftFormulas;
import io.neuronexplainer.simulator.SimulatorWorker;
import io.neuronexplainer.simulator.TokenPatternSimulator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drift on the real demo checkpoints, through the real pipeline (offline explainer and simulator):
 * a checkpoint compared with itself has no drift and its carried explanation scores exactly as it
 * did; a checkpoint that arrives late is placed by its step; every drift figure equals a plain
 * recomputation from the activations records.
 */
class DriftAcrossCheckpointsTest {
    static final String NEURONS = "0:0-7,5:0-7";
    static final int PER_CHECKPOINT = 16;
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void driftIsZeroAgainstItselfAndALateCheckpointIsPlacedByItsStep(@TempDir Path dir) throws Exception {
        Path demo = DefaultModel.folder().getParent();
        Path tokenizer = demo.resolve("tokenizer.json");
        try (TestKafka kafka = TestKafka.start(1)) {
            KafkaClients clients = kafka.clients();
            try (Admin admin = Admin.create(clients.admin())) {
                Topics.create(admin, 3, (short) 1, 30_000);
            }
            var meters = new SimpleMeterRegistry();
            try (Scorer scorer = Scorer.start(clients, ScorerSettings.defaults("drift-test", dir.resolve("state"))
                    .withHttpPort(0).withOverrides(Map.of("commit.interval.ms", 200)), meters)) {
                TransactionalWorker<?, ?> explainers = ExplainerWorker.create(clients, ExplainerWorker.settings(8),
                        new TokenPatternExplainer(), meters);
                TransactionalWorker<?, ?> simulators = SimulatorWorker.create(clients, SimulatorWorker.settings(8),
                        new TokenPatternSimulator(), meters);
                Thread e = new Thread(explainers::run, "explainer");
                Thread s = new Thread(simulators::run, "simulator");
                e.start();
                s.start();
                try {
                    CheckpointRunner runner = new CheckpointRunner(clients, CorpusSource.of(null), null,
                            SamplingSettings.defaults(), 200, 16, NEURONS, null, true, ProgressReporter::forThisProcess);
                    // final and an identical copy of it first, then the earliest step, then the middle one late.
                    run(runner, demo.resolve("final"), tokenizer, "final", 6000);
                    run(runner, demo.resolve("final"), tokenizer, "final-again", 7000);
                    run(runner, demo.resolve("step-000300"), tokenizer, "step-000300", 300);
                    run(runner, demo.resolve("step-001500"), tokenizer, "step-001500", 1500);

                    try (DriftReport report = new DriftReport(clients)) {
                        assertTrue(report.await("demo-gpt2", 3L * PER_CHECKPOINT, 180_000_000_000L),
                                "drift complete for 3 pairs x " + PER_CHECKPOINT + " neurons: " + report.complete("demo-gpt2"));
                        checkPairs(report.of("demo-gpt2"), activations(clients));
                    }
                    Path file = dir.resolve("export.jsonl");
                    Exporter.export(clients, file);
                    checkExport(file);
                    checkApi(scorer.httpPort());
                    checkViewer(scorer.httpPort());
                } finally {
                    explainers.stop();
                    simulators.stop();
                    e.join(30_000);
                    s.join(30_000);
                }
            }
        }
    }

    private static void run(CheckpointRunner runner, Path folder, Path tokenizer, String name, long step) throws Exception {
        runner.run(new CheckpointRunner.Checkpoint(folder, tokenizer, "demo-gpt2", name, step));
    }

    private static void checkPairs(List<NeuronDrift> drifts, Map<String, NeuronActivations> activations) {
        Map<String, List<NeuronDrift>> byPair = drifts.stream().collect(Collectors.groupingBy(
                d -> d.getKey().getFromCheckpoint() + " -> " + d.getKey().getToCheckpoint()));
        assertEquals(Set.of("step-000300 -> step-001500", "step-001500 -> final", "final -> final-again"), byPair.keySet(),
                "pairs by step; the pair the late checkpoint split is retracted");
        for (NeuronDrift d : byPair.get("final -> final-again")) {
            assertEquals(0, d.getActivationDrift(), 1e-9, "a checkpoint against itself: " + d);
            assertEquals(1, d.getTopWindowOverlap(), 1e-12);
            assertEquals(d.getFromBest(), d.getCarriedCorrelation(), 1e-9, "the carried explanation scores as it did");
            assertEquals(0, d.getScoreDelta(), 1e-9);
        }
        boolean changed = false;
        for (NeuronDrift d : drifts) {
            NeuronActivations from = activations.get(d.getKey().getFromCheckpoint() + "/" + d.getKey().getLayer() + ":" + d.getKey().getNeuron());
            NeuronActivations to = activations.get(d.getKey().getToCheckpoint() + "/" + d.getKey().getLayer() + ":" + d.getKey().getNeuron());
            assertNotNull(from);
            assertNotNull(to);
            var recomputed = DriftFormulas.activationDrift(maxima(from), maxima(to));
            assertEquals(recomputed.isEmpty(), d.getActivationDriftUndefined());
            assertEquals(recomputed.orElse(0), d.getActivationDrift(), 1e-6, "activation drift recomputed: " + d.getKey());
            assertTrue(d.getRandomWindows() >= 50, "the series' random sample: " + d.getRandomWindows());
            assertEquals(d.getToBest() - d.getFromBest(), d.getScoreDelta(), 1e-9);
            changed |= d.getActivationDrift() > 0.01;
        }
        assertTrue(changed, "training changes some neuron between the real checkpoints");
        assertFalse(drifts.stream().anyMatch(d -> d.getFromStep() >= d.getToStep()), "pairs run forward in steps");
    }

    /** Every exported drift figure equals a plain recomputation from the exported fields of the two checkpoints. */
    private static void checkExport(Path file) throws Exception {
        Map<String, JsonNode> docs = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            JsonNode doc = JSON.readTree(line);
            JsonNode n = doc.get("neuron");
            docs.put(n.get("checkpoint").asText() + "/" + n.get("layer").asInt() + ":" + n.get("neuron").asInt(), doc);
        }
        assertEquals(4 * PER_CHECKPOINT, docs.size());
        int checked = 0;
        for (JsonNode doc : docs.values()) {
            JsonNode n = doc.get("neuron");
            assertEquals(3, doc.get("history").size(), "one entry per consecutive pair: " + doc.get("history"));
            for (JsonNode h : doc.get("history")) {
                JsonNode from = docs.get(h.get("from").asText() + "/" + n.get("layer").asInt() + ":" + n.get("neuron").asInt());
                JsonNode to = docs.get(h.get("to").asText() + "/" + n.get("layer").asInt() + ":" + n.get("neuron").asInt());
                var drift = DriftFormulas.activationDrift(exportedMaxima(from), exportedMaxima(to));
                assertEquals(drift.orElse(0), h.get("activation_drift").asDouble(), 1e-6);
                assertEquals(DriftFormulas.topWindowOverlap(topWindows(from), topWindows(to)),
                        h.get("top_window_overlap").asDouble(), 1e-6);
                double fromBest = from.get("best_explanation").get("correlation").asDouble();
                double toBest = to.get("best_explanation").get("correlation").asDouble();
                assertEquals(toBest - fromBest, h.get("score_delta").asDouble(), 1e-6);
                double carried = Double.NaN;
                for (JsonNode score : to.get("scores")) {
                    if (h.get("from").asText().equals(score.get("carried_from").asText(null))) {
                        carried = score.get("correlation").asDouble();
                    }
                }
                assertEquals(carried, h.get("carried_correlation").asDouble(), 1e-6, "the carried score in the later checkpoint's scores");
                checked++;
            }
        }
        assertEquals(4 * PER_CHECKPOINT * 3, checked);
    }

    private static Map<Long, Double> exportedMaxima(JsonNode doc) {
        Map<Long, Double> out = new HashMap<>();
        doc.get("random_window_maxima").forEach(m -> out.put(m.get("window_index").asLong(), m.get("max_activation").asDouble()));
        return out;
    }

    private static Set<Long> topWindows(JsonNode doc) {
        Set<Long> out = new java.util.HashSet<>();
        doc.get("most_positive_activation_records").forEach(w -> out.add(w.get("window_index").asLong()));
        return out;
    }

    /** The routes a viewer of checkpoints reads: checkpoints in step order, a neuron's history, the most changed. */
    private static void checkApi(int port) throws Exception {
        JsonNode checkpoints = get(port, "/api/checkpoints?model=demo-gpt2");
        List<String> order = new java.util.ArrayList<>();
        checkpoints.forEach(c -> order.add(c.get("checkpoint").asText()));
        assertEquals(List.of("step-000300", "step-001500", "final", "final-again"), order);
        JsonNode history = get(port, "/api/neuron/history?model=demo-gpt2&layer=5&neuron=3");
        assertEquals(4, history.get("checkpoints").size(), history.toString());
        assertEquals(3, history.get("drift").size());
        assertEquals("step-000300", history.get("drift").get(0).get("from").asText());
        JsonNode most = get(port, "/api/drift?model=demo-gpt2&from=step-000300&to=step-001500&order=most-changed&limit=5");
        assertEquals(5, most.size());
        for (int i = 1; i < most.size(); i++) {
            assertTrue(most.get(i - 1).get("activation_drift").asDouble() >= most.get(i).get("activation_drift").asDouble());
        }
    }

    /** The viewer shows a neuron's score across checkpoints as a chart, its explanations side by side, and the most changed. */
    private static void checkViewer(int port) throws Exception {
        HeadlessChromium chromium = HeadlessChromium.find();
        String url = "http://127.0.0.1:" + port + "/?model=demo-gpt2&checkpoint=step-001500&layer=5&neuron=3";
        String dom = chromium.dumpDom(url);
        assertFalse(dom.contains("error:"), "no JS error shown");
        assertTrue(dom.contains("id=\"score-chart\""), "the score chart is drawn");
        assertEquals(4, count(dom, "<circle"), "one point per checkpoint");
        assertEquals(5, count(dom.substring(dom.indexOf("id=\"history\"")), "<tr") - count(dom.substring(dom.indexOf("</table>",
                dom.indexOf("id=\"history\""))), "<tr"), "a header and one row per checkpoint");
        assertTrue(dom.contains("Most changed since step-000300"), "the layer's most changed neurons since the previous checkpoint");
        Path shot = Path.of("target", "neuron-viewer-history.png");
        chromium.screenshot(url, shot);
        assertTrue(Files.size(shot) > 10_000, "a real screenshot");
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    private static JsonNode get(int port, String path) throws Exception {
        var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + path)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), path + ": " + response.body());
        return JSON.readTree(response.body());
    }

    private static Map<Long, Double> maxima(NeuronActivations a) {
        Map<Long, Double> out = new HashMap<>();
        for (WindowMax m : a.getRandomWindowMaxima()) {
            out.put(m.getWindowIndex(), (double) m.getMaxActivation());
        }
        return out;
    }

    /** The activations records by "checkpoint/layer:neuron". */
    private static Map<String, NeuronActivations> activations(KafkaClients clients) {
        Map<String, NeuronActivations> out = new HashMap<>();
        for (ConsumerRecord<ActivationsKey, NeuronActivations> r
                : TopicSnapshot.read(clients, Topics.NEURON_ACTIVATIONS, ActivationsKey.class, NeuronActivations.class)) {
            var n = r.key().getNeuron();
            out.put(n.getCheckpoint() + "/" + n.getLayer() + ":" + n.getNeuron(), r.value());
        }
        return out;
    }
}
