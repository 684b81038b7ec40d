package io.neuronexplainer.scorer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.TestKafka;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.NeuronScore;
import io.neuronexplainer.schemas.SimulatedWindow;
import io.neuronexplainer.schemas.Simulation;
import io.neuronexplainer.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scorer on a real broker and registry: join order, dead letters, HTTP API, export, and a
 * neuron's detection and fuzzing scores beside its simulation score.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ScorerStreamsTest {
    static TestKafka kafka;
    static KafkaClients clients;
    static Scorer scorer;
    static PrometheusMeterRegistry meters;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path temp;

    static NeuronActivations truthA, truthB;
    static Simulation simA, simB;

    @BeforeAll
    static void start() throws Exception {
        kafka = TestKafka.start(1);
        clients = kafka.clients();
        TopicIo.createTopics(clients, 3);
        meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        scorer = Scorer.start(clients, ScorerSettings.defaults("scorer-test", temp.resolve("state"))
                .withOverrides(java.util.Map.of("commit.interval.ms", 200)), meters);
        scorer.awaitRunning(Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        if (scorer != null) {
            scorer.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    /** Neuron {@code n} of layer 3 with the same windows and predictions as every other such neuron. */
    static NeuronActivations truth(int n) {
        Random rnd = new Random(11);
        List<List<Float>> top = new ArrayList<>(), random = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            top.add(Fixtures.floats(rnd, 12, 4f, -0.1f));
            random.add(Fixtures.floats(rnd, 12, 0.4f, -0.1f));
        }
        return Fixtures.activations(Fixtures.key(3, n), top, random);
    }

    static Simulation simulation(NeuronActivations truth, String id, float noise) {
        Random rnd = new Random(13);
        List<List<Float>> top = new ArrayList<>(), random = new ArrayList<>();
        truth.getScoringTopWindows().forEach(w -> top.add(w.getActivations().stream().map(a -> a * 2.5f + noise * rnd.nextFloat()).toList()));
        truth.getScoringRandomWindows().forEach(w -> random.add(w.getActivations().stream().map(a -> a * 2.5f + noise * rnd.nextFloat()).toList()));
        return Fixtures.simulation(truth.getNeuron(), id, top, random);
    }

    static boolean sameScores(NeuronScore a, NeuronScore b) {
        return a.getCorrelation() == b.getCorrelation() && a.getTopCorrelation() == b.getTopCorrelation()
                && a.getRandomCorrelation() == b.getRandomCorrelation() && a.getRsquared() == b.getRsquared()
                && a.getAbsoluteDevExplained() == b.getAbsoluteDevExplained()
                && a.getUndefinedScores().equals(b.getUndefinedScores()) && a.getTokens() == b.getTokens()
                && a.getTopWindows() == b.getTopWindows() && a.getRandomWindows() == b.getRandomWindows();
    }

    @Test
    @Order(1)
    void simulationBeforeOrAfterActivationsGivesTheSameScores() throws Exception {
        truthA = truth(1);
        truthB = truth(2);
        simA = simulation(truthA, "expl-a", 3f);
        simB = simulation(truthB, "expl-a", 3f);
        ScorerStores stores = scorer.stores();

        // A: the simulation first; it must wait in the store, unscored.
        TopicIo.send(clients, Topics.NEURON_SIMULATIONS, truthA.getNeuron(), simA);
        TopicIo.await("simulation of A stored", Duration.ofSeconds(30), () -> !stores.simulations(truthA.getNeuron()).isEmpty());
        assertTrue(stores.scores(truthA.getNeuron()).isEmpty());
        TopicIo.sendActivations(clients, truthA);

        // B: the activations first.
        TopicIo.sendActivations(clients, truthB);
        TopicIo.await("activations of B stored", Duration.ofSeconds(30), () -> stores.activations(truthB.getNeuron()).isPresent());
        TopicIo.send(clients, Topics.NEURON_SIMULATIONS, truthB.getNeuron(), simB);

        TopicIo.await("both scored", Duration.ofSeconds(30),
                () -> stores.best(truthA.getNeuron()).isPresent() && stores.best(truthB.getNeuron()).isPresent());
        NeuronScore a = stores.best(truthA.getNeuron()).orElseThrow();
        NeuronScore b = stores.best(truthB.getNeuron()).orElseThrow();
        assertTrue(sameScores(a, b), a + " vs " + b);
        NeuronScore expected = ExplanationScorer.score(truthA, simA, Instant.EPOCH);
        assertTrue(sameScores(expected, a), expected + " vs " + a);

        // And against the plain-loop definition, through the real topics.
        List<Double> t = new ArrayList<>(), p = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            truthA.getScoringTopWindows().get(w).getActivations().forEach(x -> t.add((double) x));
        }
        truthA.getScoringRandomWindows().forEach(w -> w.getActivations().forEach(x -> t.add((double) x)));
        for (var w : truthA.getScoringTopWindows()) {
            p.addAll(predicted(simA, w.getKind().name(), w.getWindowIndex()));
        }
        for (var w : truthA.getScoringRandomWindows()) {
            p.addAll(predicted(simA, w.getKind().name(), w.getWindowIndex()));
        }
        double[] ta = t.stream().mapToDouble(Double::doubleValue).toArray();
        double[] pa = p.stream().mapToDouble(Double::doubleValue).toArray();
        assertEquals(ExplanationScorerTest.pearson(ta, pa), a.getCorrelation(), 1e-6);
        assertEquals(ExplanationScorerTest.rsquared(ta, pa), a.getRsquared(), 1e-6);

        // Committed output: one score each.
        TopicIo.await("scores committed", Duration.ofSeconds(30),
                () -> TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class).size() >= 2);
        List<NeuronScore> out = TopicIo.readAll(clients, Topics.NEURON_SCORES, NeuronScore.class);
        assertEquals(1, out.stream().filter(s -> s.getNeuron().equals(truthA.getNeuron())).count());
        assertEquals(1, out.stream().filter(s -> s.getNeuron().equals(truthB.getNeuron())).count());

        var layer = stores.layers().stream().filter(l -> l.layer() == 3).findFirst().orElseThrow();
        assertEquals(2, layer.count());
        assertEquals(a.getCorrelation(), layer.mean(), 1e-9);
    }

    @Test
    @Order(7)
    void largeValuesAreKeptInBlobFiles() throws Exception {
        // LargeValueStores: the options RocksDB wrote when it opened the activations store, for the
        // column family that holds a timestamped store's data.
        List<String> sections = dataColumnFamilyOptions(temp.resolve("state"), ScorerTopology.ACTIVATIONS_STORE);
        assertFalse(sections.isEmpty(), "no OPTIONS file of the activations store");
        for (String options : sections) {
            assertTrue(options.contains("enable_blob_files=true"), options);
            assertTrue(options.contains("min_blob_size=" + LargeValueStores.MIN_BLOB_BYTES), options);
        }
    }

    /** The [CFOptions "keyValueWithTimestamp"] section of each of a store's RocksDB OPTIONS files (one per task). */
    static List<String> dataColumnFamilyOptions(Path stateDir, String store) throws java.io.IOException {
        List<String> out = new ArrayList<>();
        try (var files = Files.walk(stateDir)) {
            for (Path f : files.filter(f -> f.getParent().getFileName().toString().equals(store)
                    && f.getFileName().toString().matches("OPTIONS-\\d+")).toList()) {
                String text = Files.readString(f);
                int at = text.indexOf("[CFOptions \"keyValueWithTimestamp\"]");
                if (at >= 0) {
                    int end = text.indexOf("\n[", at + 1);
                    out.add(text.substring(at, end < 0 ? text.length() : end));
                }
            }
        }
        return out;
    }

    @Test
    @Order(7)
    void theProjectionsReadWhatTheirUsersNeedAsTheFullRecordHasIt() {
        byte[] bytes = new io.neuronexplainer.schemas.AvroSerializer<NeuronActivations>(clients.registry(), false)
                .serialize(Topics.NEURON_ACTIVATIONS, truthA);
        NeuronActivations thin = ActivationsProjection.scoring(clients.registry()).deserialize(Topics.NEURON_ACTIVATIONS, bytes);
        assertEquals(truthA.getNeuron(), thin.getNeuron());
        assertEquals(truthA.getScoringTopWindows().size(), thin.getScoringTopWindows().size());
        assertEquals(truthA.getScoringRandomWindows().get(2).getActivations(), thin.getScoringRandomWindows().get(2).getActivations());
        assertEquals(truthA.getScoringRandomWindows().get(2).getWindowIndex(), thin.getScoringRandomWindows().get(2).getWindowIndex());
        assertTrue(thin.getScoringTopWindows().get(0).getTokens().isEmpty(), "tokens are skipped");
        assertTrue(sameScores(ExplanationScorer.score(truthA, simA, Instant.EPOCH), ExplanationScorer.score(thin, simA, Instant.EPOCH)));

        // The drift tracker's: the same point as from the whole record, from a record without tokens.
        NeuronActivations inSeries = NeuronActivations.newBuilder(truthA).setRun(io.neuronexplainer.schemas.ProducerRun
                .newBuilder(truthA.getRun()).setSeriesId("series-1").setStep(77).build()).build();
        NeuronActivations forDrift = ActivationsProjection.drift(clients.registry()).deserialize(Topics.NEURON_ACTIVATIONS,
                new io.neuronexplainer.schemas.AvroSerializer<NeuronActivations>(clients.registry(), false)
                        .serialize(Topics.NEURON_ACTIVATIONS, inSeries));
        assertEquals(io.neuronexplainer.scorer.drift.DriftPoints.of(inSeries), io.neuronexplainer.scorer.drift.DriftPoints.of(forDrift));
        assertEquals(77, io.neuronexplainer.scorer.drift.DriftPoints.of(forDrift).getStep());
        assertTrue(forDrift.getExplanationWindows().get(0).getTokens().isEmpty(), "tokens are skipped");
        assertTrue(forDrift.getScoringRandomWindows().isEmpty(), "so are windows it does not keep");

        // A carried request's: the scoring windows' tokens.
        NeuronActivations tokens = ActivationsProjection.scoringTokens(clients.registry()).deserialize(Topics.NEURON_ACTIVATIONS, bytes);
        assertEquals(truthA.getScoringTopWindows().get(1).getTokens(), tokens.getScoringTopWindows().get(1).getTokens());
        assertEquals(truthA.getScoringRandomWindows().get(2).getTokens(), tokens.getScoringRandomWindows().get(2).getTokens());
        assertTrue(tokens.getScoringTopWindows().get(1).getActivations().isEmpty(), "activations are skipped");
    }

    static List<Double> predicted(Simulation sim, String kind, long index) {
        for (SimulatedWindow w : sim.getWindows()) {
            if (w.getKind().name().equals(kind) && w.getWindowIndex() == index) {
                return w.getPredicted().stream().map(Float::doubleValue).toList();
            }
        }
        throw new AssertionError("no window " + kind + index);
    }

    @Test
    @Order(2)
    void aBetterExplanationReplacesTheNeuronsContribution() throws Exception {
        ScorerStores stores = scorer.stores();
        NeuronScore before = stores.best(truthA.getNeuron()).orElseThrow();
        Simulation better = simulation(truthA, "expl-b", 0.01f);
        TopicIo.send(clients, Topics.NEURON_SIMULATIONS, truthA.getNeuron(), better);
        TopicIo.await("expl-b best", Duration.ofSeconds(30),
                () -> stores.best(truthA.getNeuron()).map(s -> s.getExplanationId().equals("expl-b")).orElse(false));
        NeuronScore after = stores.best(truthA.getNeuron()).orElseThrow();
        assertTrue(after.getCorrelation() > before.getCorrelation());
        assertEquals(2, stores.scores(truthA.getNeuron()).size());
        TopicIo.await("aggregate updated", Duration.ofSeconds(30), () -> {
            var l = stores.layers().stream().filter(x -> x.layer() == 3).findFirst().orElseThrow();
            return Math.abs(l.mean() - (after.getCorrelation() + stores.best(truthB.getNeuron()).orElseThrow().getCorrelation()) / 2) < 1e-9;
        });
        // Still two neurons, not three: the old best was subtracted.
        assertEquals(2, stores.layers().stream().filter(x -> x.layer() == 3).findFirst().orElseThrow().count());
        // Re-sending the same simulation makes no second score, nor counts the neuron twice.
        TopicIo.send(clients, Topics.NEURON_SIMULATIONS, truthA.getNeuron(), better);
        TopicIo.await("the copy seen", Duration.ofSeconds(30), () -> scorer.duplicatesSkipped() >= 1);
        assertEquals(3, scorer.scoresComputed());
        assertEquals(2, stores.scores(truthA.getNeuron()).size());
        assertEquals(2, stores.layers().stream().filter(x -> x.layer() == 3).findFirst().orElseThrow().count());
    }

    @Test
    @Order(3)
    void aSimulationMissingAWindowGoesToTheDeadLetterTopicWithTheReason() throws Exception {
        NeuronActivations truth = truth(3);
        Simulation full = simulation(truth, "expl-x", 1f);
        Simulation partial = Simulation.newBuilder(full).setWindows(full.getWindows().subList(0, 2)).build();
        TopicIo.sendActivations(clients, truth);
        TopicIo.send(clients, Topics.NEURON_SIMULATIONS, truth.getNeuron(), partial);
        String dlq = Topics.deadLetter(Topics.NEURON_SIMULATIONS);
        TopicIo.await("dead letter", Duration.ofSeconds(30), () -> !TopicIo.readAll(clients, dlq, DeadLetter.class).isEmpty());
        DeadLetter letter = TopicIo.readAll(clients, dlq, DeadLetter.class).get(0);
        assertTrue(letter.getErrorMessage().contains("lacks scoring window"), letter.getErrorMessage());
        assertEquals("score-aggregator", letter.getStage());
        assertTrue(scorer.stores().scores(truth.getNeuron()).isEmpty());

        // Not Avro at all: dead-lettered with its raw bytes by the deserialization handler.
        byte[] key = new io.neuronexplainer.schemas.AvroSerializer<NeuronKey>(clients.registry(), true)
                .serialize(Topics.NEURON_SIMULATIONS, truth.getNeuron());
        byte[] garbage = "not avro".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (var raw = new org.apache.kafka.clients.producer.KafkaProducer<>(clients.producer(null),
                new org.apache.kafka.common.serialization.ByteArraySerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            raw.send(new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.NEURON_SIMULATIONS, key, garbage)).get();
        }
        TopicIo.await("dead letter of the unreadable record", Duration.ofSeconds(30),
                () -> TopicIo.readAll(clients, dlq, DeadLetter.class).size() >= 2);
        DeadLetter unreadable = TopicIo.readAll(clients, dlq, DeadLetter.class).get(1);
        assertEquals(Topics.NEURON_SIMULATIONS, unreadable.getSourceTopic());
        assertEquals(java.nio.ByteBuffer.wrap(garbage), unreadable.getValue());
        assertTrue(scorer.isRunning(), "the scorer goes on");
    }

    /** Scores recomputed at export time carry that time; everything else must match. */
    static String withoutScoredAt(String line) {
        return line.replaceAll("\"scored_at\":\"[^\"]*\"", "");
    }

    static JsonNode get(String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scorer.httpPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return Json.MAPPER.readTree(r.body());
    }

    @Test
    @Order(4)
    void httpApiServesNeuronsLayersAndTopNeurons() throws Exception {
        NeuronKey k = truthA.getNeuron();
        JsonNode neuron = get("/api/neuron?model=" + k.getModel() + "&checkpoint=" + k.getCheckpoint() + "&layer=3&neuron=1");
        assertEquals("expl-b", neuron.at("/best_explanation/explanation_id").asText());
        assertEquals(2, neuron.get("scores").size());
        assertEquals(4, neuron.get("most_positive_activation_records").size()); // 1 explanation + 3 scoring
        assertEquals(3, neuron.get("random_sample").size());
        assertEquals(truthA.getScoringTopWindows().get(1).getActivations().get(4),
                neuron.at("/most_positive_activation_records/2/activations/4").floatValue());
        assertEquals(2, neuron.get("simulations").size());
        JsonNode layers = get("/api/layers");
        assertEquals(1, layers.size());
        assertEquals(2, layers.get(0).get("count").asInt()); // neuron 3's simulation was refused
        JsonNode top = get("/api/neurons?threshold=0.5");
        assertTrue(top.size() >= 1);
        for (int i = 1; i < top.size(); i++) {
            assertTrue(top.get(i - 1).get("correlation").asDouble() >= top.get(i).get("correlation").asDouble());
        }
        JsonNode none = get("/api/neurons?threshold=1.01");
        assertEquals(0, none.size());
        HttpResponse<String> missing = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scorer.httpPort()
                + "/api/neuron?model=x&checkpoint=y&layer=0&neuron=0")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, missing.statusCode());
        HttpResponse<String> bad = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scorer.httpPort()
                + "/api/neuron?model=x&checkpoint=y&layer=zero&neuron=0")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().contains("layer is not a number"), bad.body());
        HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scorer.httpPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(metrics.body().contains("neuron_scores_total"), "scores counter");
        assertTrue(metrics.body().contains("neuron_join_wait_seconds_count"), "join wait");
        TopicIo.await("layer gauges", Duration.ofSeconds(15), () -> {
            try {
                String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scorer.httpPort()
                        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
                return body.contains("neuron_layer_neurons{checkpoint=\"final\",layer=\"3\",model=\"demo-gpt2\"") ;
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test
    @Order(5)
    void viewerShowsTheNeuronInHeadlessChromium() throws Exception {
        HeadlessChromium chromium = HeadlessChromium.find();
        NeuronKey k = truthA.getNeuron();
        String url = "http://127.0.0.1:" + scorer.httpPort() + "/?model=" + k.getModel() + "&checkpoint=" + k.getCheckpoint()
                + "&layer=3&neuron=1";
        String dom = chromium.dumpDom(url);
        String explanation = simA.getExplanationText().replace("expl-a", "expl-b");
        assertTrue(dom.contains("id=\"explanation\""), "the neuron pane was rendered");
        assertTrue(dom.contains(explanation), "the best explanation is shown: " + explanation);
        assertTrue(dom.contains("simulated"), "simulated rows are shown");
        assertTrue(dom.contains("rgba(46, 160, 67"), "tokens are coloured by true activation");
        assertFalse(dom.contains("error:"), "no JS error shown");
        Path shot = Path.of("target", "neuron-viewer.png");
        chromium.screenshot(url, shot);
        assertTrue(Files.size(shot) > 10_000, "a real screenshot");
    }

    @Test
    @Order(6)
    void exportWritesOneLinePerNeuronFromTopicsAndStores() throws Exception {
        Path fromTopics = temp.resolve("topics.jsonl");
        long n = Exporter.export(clients, fromTopics);
        assertEquals(3, n); // neurons 1, 2 and 3 (3 has activations but no valid simulation)
        List<String> lines = Files.readAllLines(fromTopics);
        assertEquals(3, lines.size());
        JsonNode first = Json.MAPPER.readTree(lines.get(0));
        assertEquals(1, first.at("/neuron/neuron").asInt());
        assertEquals("expl-b", first.at("/best_explanation/explanation_id").asText());
        assertEquals(2, first.get("scores").size(), "both explanations' scores, though neuron-scores is compacted per neuron");
        assertTrue(first.get("most_positive_activation_records").get(0).has("tokens"));
        assertTrue(first.get("most_positive_activation_records").get(0).has("activations"));
        assertEquals(3, first.get("random_sample").size());
        // The neuron's max on every window of its run's random sample, scored or not, in sample order.
        JsonNode maxima = first.get("random_window_maxima");
        assertEquals(List.of(1000L, 1001L, 1002L, 2000L, 2001L),
                java.util.stream.StreamSupport.stream(maxima.spliterator(), false).map(m -> m.get("window_index").asLong()).toList());
        assertEquals(first.at("/random_sample/0/max_activation").asDouble(), maxima.at("/0/max_activation").asDouble(), 1e-6);
        assertEquals(1.25, maxima.at("/4/max_activation").asDouble(), 1e-6);
        assertEquals(6, first.at("/simulations/0/windows").size());
        assertTrue(Json.MAPPER.readTree(lines.get(2)).get("best_explanation").isNull());

        Path viaCli = temp.resolve("cli.jsonl");
        int exit = new picocli.CommandLine(new ExportCommand()).execute("--bootstrap-servers", clients.bootstrapServers(),
                "--registry-url", clients.registryUrl(), "--partitions", "3", "--out", viaCli.toString());
        assertEquals(0, exit);
        assertEquals(lines.stream().map(ScorerStreamsTest::withoutScoredAt).toList(),
                Files.readAllLines(viaCli).stream().map(ScorerStreamsTest::withoutScoredAt).toList());

        Path fromStores = temp.resolve("stores.jsonl");
        assertEquals(3, Exporter.export(scorer, fromStores));
        JsonNode same = Json.MAPPER.readTree(Files.readAllLines(fromStores).get(0));
        assertEquals(first.get("scores").get(0).get("correlation"), same.get("scores").get(0).get("correlation"));
        assertEquals(maxima, same.get("random_window_maxima"), "the stores' export carries the maxima too");
    }

    @Test
    @Order(10) // last: once the second instance has left, the first gets its partitions back only after a while
    void queriesMadeWhileTheScorerStartsWaitForItsStores(@TempDir Path state) throws Exception {
        // A second instance of the same app: its start is a rebalance of both, during which the
        // stores cannot be queried. A caller must get answers, not InvalidStateStoreException.
        try (Scorer second = Scorer.start(clients, ScorerSettings.defaults("scorer-test", state), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            assertTrue(second.streams().state() != org.apache.kafka.streams.KafkaStreams.State.RUNNING,
                    "the query below must meet a scorer that is still starting");
            long scored = second.stores().scoredNeurons() + scorer.stores().scoredNeurons();
            assertTrue(scored >= 2, "the two instances together hold the neurons scored so far: " + scored);
            assertEquals(second.stores().neurons().size() + scorer.stores().neurons().size(),
                    java.util.stream.Stream.concat(second.stores().neurons().stream(), scorer.stores().neurons().stream()).distinct().count());
        }
    }

    static NeuronActivations truthJ;

    /** A judge's answers on neuron {@code truth}: detection of every scoring window, or fuzzing of every top window. */
    static Simulation judged(NeuronActivations truth, String explanationId, String kind) {
        Random rnd = new Random(kind.hashCode());
        List<io.neuronexplainer.schemas.Judgement> out = new ArrayList<>();
        for (var w : truth.getScoringTopWindows()) {
            List<Integer> marked = !kind.equals(io.neuronexplainer.schemas.Identities.FUZZING_SCORER) ? List.of()
                    : w.getWindowIndex() % 2 == 0 ? io.neuronexplainer.schemas.ActivatingTokens.positions(w.getActivations()) : List.of(0, 1);
            out.add(Fixtures.judgement(w.getWindowIndex(), marked, rnd.nextBoolean(), rnd.nextInt(4) / 3.0));
        }
        if (kind.equals(io.neuronexplainer.schemas.Identities.DETECTION_SCORER)) {
            truth.getScoringRandomWindows().forEach(w -> out.add(Fixtures.judgement(w.getWindowIndex(), List.of(), rnd.nextBoolean(),
                    rnd.nextInt(4) / 3.0)));
        }
        java.util.Collections.shuffle(out, rnd);
        return Fixtures.judged(truth.getNeuron(), explanationId, kind, out);
    }

    /** A judged score's entry recomputed from its own judgements (plain loops), as a reader of the API or export would. */
    static void assertFiguresRecompute(JsonNode entry) {
        List<io.neuronexplainer.schemas.JudgedExcerpt> judged = new ArrayList<>();
        for (JsonNode j : entry.get("judgements")) {
            List<Integer> marked = new ArrayList<>();
            j.get("marked").forEach(m -> marked.add(m.asInt()));
            judged.add(new io.neuronexplainer.schemas.JudgedExcerpt(j.get("window_index").asLong(), marked, j.get("truth").asBoolean(),
                    j.get("says_yes").asBoolean(), j.get("yes_probability").isNull() ? null : j.get("yes_probability").asDouble()));
        }
        assertFalse(judged.isEmpty());
        assertEquals(JudgedScoreFormulasTest.balancedAccuracy(judged), entry.get("balanced_accuracy").asDouble(), 1e-12);
        double auroc = JudgedScoreFormulasTest.auroc(judged);
        if (Double.isNaN(auroc)) {
            assertTrue(entry.get("auroc").isNull(), entry.toString());
        } else {
            assertEquals(auroc, entry.get("auroc").asDouble(), 1e-12);
        }
    }

    @Test
    @Order(8)
    void detectionAndFuzzingAreScoredBesideTheSimulationButNeverTheBest() throws Exception {
        String det = io.neuronexplainer.schemas.Identities.DETECTION_SCORER;
        String fuz = io.neuronexplainer.schemas.Identities.FUZZING_SCORER;
        truthJ = truth(4);
        NeuronKey k = truthJ.getNeuron();
        ScorerStores stores = scorer.stores();
        // The judges' answers first (they wait for the activations, each under its own key), then the activations,
        // then the simulation; and a detection judging a window the neuron was not scored on.
        Simulation detection = judged(truthJ, "expl-j", det);
        Simulation fuzzing = judged(truthJ, "expl-j", fuz);
        Simulation wrong = Fixtures.judged(k, "expl-wrong", det, List.of(Fixtures.judgement(999, List.of(), true, null)));
        TopicIo.send(clients, Topics.NEURON_SIMULATIONS, k, detection);
        TopicIo.send(clients, Topics.NEURON_SIMULATIONS, k, fuzzing);
        TopicIo.await("both judged simulations held", Duration.ofSeconds(30), () -> stores.simulations(k).size() == 2);
        // Each waits under its own key (the orphan sweeper's count), and stops waiting once scored.
        TopicIo.await("both judged simulations waiting", Duration.ofSeconds(15), () -> scorer.simulationsWaiting() == 2);
        TopicIo.sendActivations(clients, truthJ);
        TopicIo.await("judged scores", Duration.ofSeconds(30), () -> stores.scores(k).size() == 2);
        TopicIo.await("none waiting", Duration.ofSeconds(15), () -> scorer.simulationsWaiting() == 0);
        assertTrue(stores.best(k).isEmpty(), "judged scores are no best");
        Simulation simulation = simulation(truthJ, "expl-j", 1f);
        TopicIo.send(clients, Topics.NEURON_SIMULATIONS, k, simulation);
        TopicIo.send(clients, Topics.NEURON_SIMULATIONS, k, wrong);
        TopicIo.await("simulation scored and best", Duration.ofSeconds(30), () -> stores.best(k).isPresent());
        assertEquals(io.neuronexplainer.schemas.Identities.SIMULATION_SCORER, stores.best(k).orElseThrow().getScorerKind());
        String dlq = Topics.deadLetter(Topics.NEURON_SIMULATIONS);
        TopicIo.await("the wrong detection dead-lettered", Duration.ofSeconds(30), () -> TopicIo.readAll(clients, dlq, DeadLetter.class)
                .stream().anyMatch(l -> l.getErrorMessage().contains("detection judges window 999, which is not a scoring window")));
        assertEquals(3, stores.simulations(k).size(), "a detection, a fuzzing and a simulation of one explanation: three entries");
        List<NeuronScore> scores = stores.scores(k);
        assertEquals(3, scores.size());
        for (NeuronScore s : scores) {
            Simulation from = s.getScorerKind().equals(det) ? detection : s.getScorerKind().equals(fuz) ? fuzzing : simulation;
            assertEquals(ExplanationScorer.scoreId(truthJ, from), s.getScoreId());
            NeuronScore expected = ExplanationScorer.score(truthJ, from, s.getScoredAt());
            assertEquals(expected, s, "the same score as from the full record");
        }

        // The API: one entry per kind, the best explanation first, figures recomputing from the judgements.
        JsonNode neuron = get("/api/neuron?model=" + k.getModel() + "&checkpoint=" + k.getCheckpoint() + "&layer=3&neuron=4");
        List<String> kinds = new ArrayList<>();
        neuron.get("scores").forEach(x -> kinds.add(x.get("scorer_kind").asText()));
        assertEquals(List.of("simulation", det, fuz), kinds);
        for (JsonNode x : neuron.get("scores")) {
            assertEquals("test-explainer/v1", x.get("explainer_method").asText());
            if (!x.get("scorer_kind").asText().equals("simulation")) {
                assertEquals(250, x.get("simulation_prompt_tokens").asInt());
                assertFiguresRecompute(x);
            }
        }
        // Per layer and scorer: layer 3 has simulation scores of neurons 1, 2 and 4, and one of each judged kind.
        JsonNode perScorer = get("/api/layers/scorers");
        List<String> rows = new ArrayList<>();
        perScorer.forEach(x -> rows.add(x.get("layer").asInt() + "/" + x.get("scorer_kind").asText() + "/" + x.get("count").asInt()));
        assertEquals(List.of("3/simulation/3", "3/detection/1", "3/fuzzing/1"), rows);
        NeuronScore detected = scores.stream().filter(s -> s.getScorerKind().equals(det)).findFirst().orElseThrow();
        assertEquals(detected.getBalancedAccuracy(), perScorer.get(1).get("mean").asDouble(), 1e-12);
        assertEquals("balanced_accuracy", perScorer.get(1).get("figure").asText());
        assertEquals(250, perScorer.get(1).get("mean_scorer_prompt_tokens").asDouble(), 1e-12);
        TopicIo.await("the best-score layer aggregate counts neuron 4 once", Duration.ofSeconds(30), () -> {
            try {
                return get("/api/layers").get(0).get("count").asInt() == 3;
            } catch (Exception e) {
                return false;
            }
        });
        TopicIo.await("per-scorer gauges and counts", Duration.ofSeconds(20), () -> {
            try {
                String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scorer.httpPort() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                return body.contains("neuron_layer_scorer_mean{checkpoint=\"final\",layer=\"3\",model=\"demo-gpt2\",scorer=\"detection\"}")
                        && body.matches("(?s).*\\nneuron_layer_scorer_prompt_tokens\\{checkpoint=\"final\",layer=\"3\",model=\"demo-gpt2\","
                                + "scorer=\"fuzzing\"\\} 250(\\.0)?\\n.*")
                        && body.matches("(?s).*\\nneuron_scores_total\\{[^}]*scorer=\"detection\"[^}]*\\} 1(\\.0)?\\n.*");
            } catch (Exception e) {
                return false;
            }
        });

        // The export, from the topics and from the stores: the same entries.
        Path file = temp.resolve("judged.jsonl");
        Exporter.export(clients, file);
        Path fromStores = temp.resolve("judged-stores.jsonl");
        Exporter.export(scorer, fromStores);
        for (Path p : List.of(file, fromStores)) {
            JsonNode doc = Files.readAllLines(p).stream().map(line -> {
                try {
                    return Json.MAPPER.readTree(line);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }).filter(d -> d.at("/neuron/neuron").asInt() == 4).findFirst().orElseThrow();
            assertEquals("expl-j", doc.at("/best_explanation/explanation_id").asText());
            assertEquals(3, doc.get("scores").size(), p.toString());
            assertEquals(neuron.get("scores").get(1).get("judgements"), doc.get("scores").get(1).get("judgements"));
            assertFiguresRecompute(doc.get("scores").get(1));
            assertFiguresRecompute(doc.get("scores").get(2));
        }
    }

    @Test
    @Order(9)
    void viewerShowsTheJudgedFiguresBesideTheSimulationScore() throws Exception {
        HeadlessChromium chromium = HeadlessChromium.find();
        NeuronKey k = truthJ.getNeuron();
        String dom = chromium.dumpDom("http://127.0.0.1:" + scorer.httpPort() + "/?model=" + k.getModel() + "&checkpoint="
                + k.getCheckpoint() + "&layer=3&neuron=4");
        NeuronScore detected = scorer.stores().scores(k).stream()
                .filter(s -> s.getScorerKind().equals(io.neuronexplainer.schemas.Identities.DETECTION_SCORER)).findFirst().orElseThrow();
        assertTrue(dom.contains("detection: "), "the detection figure is shown");
        assertTrue(dom.contains(String.format(java.util.Locale.ROOT, "%.3f", detected.getBalancedAccuracy())), "its balanced accuracy");
        assertTrue(dom.contains("simulated"), "the simulation's predictions are still shown, not the judge's empty windows");
        assertFalse(dom.contains("error:"), "no JS error shown");
    }
}
