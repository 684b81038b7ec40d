package io.neuronexplainer.launcher.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.neuronexplainer.bench.chaos.FaultyOpenAiServer;
import io.neuronexplainer.launcher.NeuronExplain;
import io.neuronexplainer.producer.model.DefaultModel;
import io.neuronexplainer.runtime.FreePort;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.test.TestKafka;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The monitoring proven on a real Prometheus: every service runs as a process of its own with its
 * /metrics port (the watcher following the demo model's three checkpoints, the producer service,
 * the explainer and simulator pools on a local OpenAI-format server that faults 5% of calls, the
 * scorer), Debian's Prometheus scrapes them with a config generated from
 * deploy/prometheus/prometheus.yml, and every query of deploy/grafana/neuron-explainer.json must
 * return at least one series, with every label it groups by set. promtool checks the config and
 * the alert rules.
 */
class PrometheusDashboardTest {
    static final Path DEPLOY = Path.of("..", "deploy").toAbsolutePath().normalize();
    // Generous: the launcher runs two test classes at a time, and this one may share the cores with a process-heavy one.
    static final Duration DEADLINE = Duration.ofSeconds(300);
    private static final Pattern BY = Pattern.compile("\\bby \\(([^)]*)\\)");

    /** Under target/, not a JUnit temporary folder: the processes' logs stay for a failed run to be read. */
    private Path temp;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<Process> processes = new ArrayList<>();

    @Test
    void everyDashboardQueryReturnsDataFromARealPrometheus() throws Exception {
        temp = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "prometheus-test-").toAbsolutePath();
        Optional<Path> prometheus = onPath("prometheus");
        Optional<Path> promtool = onPath("promtool");
        assumeTrue(prometheus.isPresent() && promtool.isPresent(), "prometheus and promtool are not installed "
                + "(.ci/run installs Debian's prometheus package): the dashboard is not evaluated here");
        assertEquals(0, run(promtool.get().toString(), "check", "rules", DEPLOY.resolve("prometheus/alerts.yml").toString()),
                "promtool check rules deploy/prometheus/alerts.yml");
        Map<String, List<String>> panels = panelQueries();

        try (TestKafka kafka = TestKafka.start(1);
             FaultyOpenAiServer llm = FaultyOpenAiServer.start(5, 5000, 0.05, 13, 64)) {
            kafka.withTopics(6);
            KafkaClients clients = kafka.clients();
            List<String> connect = List.of("--bootstrap-servers", clients.bootstrapServers(), "--registry-url",
                    clients.registryUrl(), "--partitions", "6", "--data-dir", temp.resolve("data").toString());
            Map<String, Integer> ports = new LinkedHashMap<>();
            for (String s : List.of("watcher", "producer", "explainer", "simulator", "scorer")) {
                ports.put(s, FreePort.find());
            }
            Path demo = DefaultModel.folder().getParent();
            start("watcher", connect, "watch", "--folder", demo.toString(), "--settle-s", "1", "--poll-s", "1",
                    "--cache-dir", temp.resolve("cache").toString(), "--http-port", ports.get("watcher").toString());
            start("producer", connect, "produce", "--follow", "--windows", "100", "--neurons", "0:0-5,5:0-5",
                    "--metrics-port", ports.get("producer").toString());
            List<String> llmArgs = List.of("--method", "openai", "--llm-base-url", llm.baseUrl(), "--llm-timeout-s", "3",
                    "--llm-backoff-ms", "50", "--llm-max-tokens-per-minute", "100000000", "--max-in-flight", "8");
            start("explainer", connect, concat(List.of("explain", "--metrics-port", ports.get("explainer").toString()), llmArgs));
            start("simulator", connect, concat(List.of("simulate", "--simulator-method", "chat-logprobs",
                    "--metrics-port", ports.get("simulator").toString()), llmArgs));
            start("scorer", connect, "score", "--http-port", "-1", "--metrics-port", ports.get("scorer").toString(),
                    "--lag-every-s", "2", "--state-dir", temp.resolve("scorer-state").toString());

            Path config = prometheusConfig(ports);
            assertEquals(0, run(promtool.get().toString(), "check", "config", config.toString()),
                    "promtool check config on the generated copy of deploy/prometheus/prometheus.yml");
            int port = FreePort.find();
            Process server = new ProcessBuilder(prometheus.get().toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + temp.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true).redirectOutput(temp.resolve("prometheus.log").toFile()).start();
            processes.add(server);
            String api = "http://127.0.0.1:" + port + "/api/v1/query?query=";

            // Eventually every query has data: the checkpoints flow through every stage while Prometheus scrapes.
            Map<String, String> missing = new LinkedHashMap<>();
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            int queries = 0;
            do {
                Thread.sleep(2000);
                missing.clear();
                queries = 0;
                for (var panel : panels.entrySet()) {
                    for (String expr : panel.getValue()) {
                        queries++;
                        String problem = check(api, expr);
                        if (problem != null) {
                            missing.put(panel.getKey() + ": " + expr, problem);
                        }
                    }
                }
            } while (!missing.isEmpty() && System.nanoTime() < deadline);
            assertTrue(missing.isEmpty(), "panel queries without data (or with an empty grouping label) after "
                    + DEADLINE.toSeconds() + " s; see " + temp + " for the processes' logs:\n" + String.join("\n",
                    missing.entrySet().stream().map(e -> e.getKey() + "  -> " + e.getValue()).toList()));
            System.out.printf("dashboard: %d panels, %d queries, every one returned data from Prometheus%n",
                    panels.size(), queries);
            // Every service answers the probes Compose and Kubernetes use, on the port Prometheus scrapes.
            for (var service : ports.entrySet()) {
                for (String probe : List.of("/health/live", "/health/ready")) {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + service.getValue() + probe)).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, r.statusCode(), service.getKey() + probe + ": " + r.body());
                }
            }
        } finally {
            for (Process p : processes) {
                p.destroy();
            }
            for (Process p : processes) {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
    }

    /** Null when {@code expr} returns a series with every label it groups by set, else what is wrong. */
    private String check(String api, String expr) throws IOException, InterruptedException {
        HttpResponse<String> r;
        try {
            r = http.send(HttpRequest.newBuilder(URI.create(api + URLEncoder.encode(expr, StandardCharsets.UTF_8)))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return "Prometheus not answering: " + e.getMessage();
        }
        JsonNode body = new ObjectMapper().readTree(r.body());
        if (!"success".equals(body.path("status").asText())) {
            return "query failed: " + body.path("error").asText(r.body());
        }
        JsonNode result = body.path("data").path("result");
        if (result.isEmpty()) {
            return "no series";
        }
        for (String label : groupedBy(expr)) {
            for (JsonNode series : result) {
                if (series.path("metric").path(label).asText().isEmpty()) {
                    return "label '" + label + "' empty in " + series.path("metric");
                }
            }
        }
        return null;
    }

    /** The labels of every {@code by (...)} in the query, except histogram buckets' {@code le}. */
    static List<String> groupedBy(String expr) {
        List<String> out = new ArrayList<>();
        Matcher m = BY.matcher(expr);
        while (m.find()) {
            for (String l : m.group(1).split(",")) {
                String label = l.trim();
                if (!label.isEmpty() && !label.equals("le") && !out.contains(label)) {
                    out.add(label);
                }
            }
        }
        return out;
    }

    /** Panel title -> its queries, from the dashboard file (rows have none). */
    static Map<String, List<String>> panelQueries() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DEPLOY.resolve("grafana/neuron-explainer.json").toFile());
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (JsonNode panel : dashboard.path("panels")) {
            List<String> exprs = new ArrayList<>();
            panel.path("targets").forEach(t -> exprs.add(t.path("expr").asText()));
            if (!exprs.isEmpty()) {
                out.put(panel.path("title").asText(), exprs);
            }
        }
        return out;
    }

    /** deploy/prometheus/prometheus.yml with the test's targets for its DNS names, scraping every second. */
    private Path prometheusConfig(Map<String, Integer> ports) throws IOException {
        YAMLMapper yaml = new YAMLMapper();
        ObjectNode config = (ObjectNode) yaml.readTree(DEPLOY.resolve("prometheus/prometheus.yml").toFile());
        ((ObjectNode) config.path("global")).put("scrape_interval", "1s").put("evaluation_interval", "1s");
        config.putArray("rule_files").add(DEPLOY.resolve("prometheus/alerts.yml").toString());
        for (JsonNode job : config.path("scrape_configs")) {
            ObjectNode j = (ObjectNode) job;
            JsonNode dns = j.remove("dns_sd_configs");
            ArrayNode targets = j.putArray("static_configs").addObject().putArray("targets");
            for (JsonNode names : dns) {
                for (JsonNode name : names.path("names")) {
                    Integer port = ports.get(name.asText());
                    assertTrue(port != null, "prometheus.yml scrapes " + name.asText() + ", which the test does not run");
                    targets.add("127.0.0.1:" + port);
                }
            }
        }
        Path file = temp.resolve("prometheus.yml");
        yaml.writeValue(file.toFile(), config);
        return file;
    }

    private void start(String name, List<String> connect, String command, String... args) throws IOException {
        List<String> all = new ArrayList<>(List.of(command));
        all.addAll(List.of(args));
        start(name, connect, all);
    }

    private void start(String name, List<String> connect, List<String> commandAndArgs) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                NeuronExplain.class.getName()));
        cmd.add(commandAndArgs.get(0));
        cmd.addAll(connect);
        cmd.addAll(commandAndArgs.subList(1, commandAndArgs.size()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(temp.resolve(name + ".log").toFile());
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        processes.add(pb.start());
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        if (code != 0) {
            System.out.println(String.join(" ", command) + ":\n" + output);
        }
        return code;
    }

    private static Optional<Path> onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
