package io.neuronexplainer.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The deploy/ files cannot run here (no Docker engine, no cluster), so this checks what can be:
 * they parse, every service command in them is one our command line accepts, and compose starts
 * each service only once what it needs is healthy. KubernetesManifestsTest reads deploy/k8s strictly.
 */
class DeployConfigTest {
    static final Path DEPLOY = Path.of(System.getProperty("neuron.project.root"), "deploy");
    static final YAMLMapper YAML = new YAMLMapper();

    @Test
    void composeServicesRunCommandsTheCliAccepts() throws Exception {
        JsonNode compose = YAML.readTree(DEPLOY.resolve("docker-compose.yml").toFile());
        List<String> checked = new ArrayList<>();
        compose.path("services").fields().forEachRemaining(service -> {
            JsonNode command = service.getValue().path("command");
            // Only our services have a command: the others run their image's default.
            if (command.isArray()) {
                assertParses(service.getKey(), command);
                checked.add(service.getKey());
            }
        });
        assertEquals(List.of("watcher", "producer", "explainer", "simulator", "scorer"), checked);
    }

    @Test
    void kubernetesContainersRunCommandsTheCliAccepts() throws Exception {
        List<String> checked = new ArrayList<>();
        List<Path> files;
        try (var list = Files.list(DEPLOY.resolve("k8s"))) {
            files = list.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
        for (Path file : files) {
            for (JsonNode doc : KubernetesManifestsTest.readDocuments(file)) {
                JsonNode pod = doc.path("spec").path("template").path("spec");
                // Init containers too: they run `topics` before each service starts.
                for (String field : List.of("initContainers", "containers")) {
                    for (JsonNode container : pod.path(field)) {
                        if (!container.path("image").asText().startsWith("neuron-explain")) {
                            continue; // the registry and its database run their images' defaults
                        }
                        assertParses(doc.path("metadata").path("name").asText() + "/" + container.path("name").asText(),
                                container.path("args"));
                        if (field.equals("containers")) {
                            checked.add(container.path("name").asText());
                        }
                    }
                }
            }
        }
        assertEquals(List.of("watcher", "producer", "explainer", "simulator", "scorer"), checked);
    }

    @Test
    void composeServicesHaveHealthchecksAndStartInOrder() throws Exception {
        // SnakeYAML resolves the x-neuron anchor's merge keys ("<<"), as compose does; Jackson would not.
        JsonNode compose = new ObjectMapper().valueToTree(
                new Yaml().load(Files.readString(DEPLOY.resolve("docker-compose.yml"))));
        List<String> ours = new ArrayList<>();
        compose.path("services").fields().forEachRemaining(entry -> {
            String name = entry.getKey();
            JsonNode service = entry.getValue();
            JsonNode test = service.path("healthcheck").path("test");
            assertTrue(test.isArray() && test.size() > 1, name + ": a healthcheck");
            JsonNode dependsOn = service.path("depends_on");
            assertFalse(dependsOn.isArray(), name + ": depends_on as a list only waits for a start, not for health");
            dependsOn.fields().forEachRemaining(d -> assertTrue(
                    List.of("service_healthy", "service_completed_successfully").contains(d.getValue().path("condition").asText()),
                    name + " depends on " + d.getKey() + " with a condition"));
            JsonNode command = service.path("command");
            if (command.isArray()) {
                ours.add(name);
                for (String needed : List.of("kafka", "registry")) {
                    assertEquals("service_healthy", dependsOn.path(needed).path("condition").asText(), name + " waits for " + needed);
                }
                assertTrue(test.toString().contains("localhost:9400/health/ready"), name + ": healthcheck on /health/ready: " + test);
                // A service's own environment replaces the anchor's unless it merges it back in.
                for (String variable : List.of("NEURON_BOOTSTRAP_SERVERS", "NEURON_REGISTRY_URL")) {
                    assertFalse(service.path("environment").path(variable).asText().isEmpty(), name + " has " + variable);
                }
                String flag = command.path(0).asText().equals("watch") ? "--http-port" : "--metrics-port";
                String args = command.toString();
                assertTrue(args.contains("\"" + flag + "\",\"9400\""), name + ": serves " + flag + " 9400: " + args);
            }
        });
        assertEquals(List.of("watcher", "producer", "explainer", "simulator", "scorer"), ours);
        assertTrue(compose.path("services").path("scorer").path("environment").path("JAVA_TOOL_OPTIONS").asText()
                .contains("-XX:-TieredCompilation"), "the scorer compiles with C2 alone, as bin/neuron-explain runs `score`");
        JsonNode prometheus = compose.path("services").path("prometheus").path("volumes");
        assertTrue(prometheus.toString().contains("./prometheus/alerts.yml:/etc/prometheus/alerts.yml"),
                "prometheus loads the alert rules: " + prometheus);
    }

    @Test
    void grafanaDashboardIsJsonWithQueries() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DEPLOY.resolve("grafana/neuron-explainer.json")));
        assertFalse(dashboard.path("panels").isEmpty());
        assertPanelsHaveQueries(dashboard.path("panels"));
    }

    /** Every panel has a query; a row only groups panels (a collapsed row holds its own). */
    private static void assertPanelsHaveQueries(JsonNode panels) {
        for (JsonNode panel : panels) {
            if (panel.path("type").asText().equals("row")) {
                assertPanelsHaveQueries(panel.path("panels"));
                continue;
            }
            assertFalse(panel.path("targets").isEmpty(), panel.path("title").asText());
            for (JsonNode target : panel.path("targets")) {
                assertFalse(target.path("expr").asText().isBlank(), panel.path("title").asText());
            }
        }
    }

    private static void assertParses(String service, JsonNode args) {
        List<String> list = new ArrayList<>();
        args.forEach(a -> list.add(a.asText()));
        assertFalse(list.isEmpty(), service);
        var result = NeuronExplain.commandLine().parseArgs(list.toArray(String[]::new));
        assertTrue(result.hasSubcommand(), service + ": " + list);
    }
}
