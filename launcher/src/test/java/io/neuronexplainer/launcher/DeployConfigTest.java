package io.neuronexplainer.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The deploy/ files cannot run here (no Docker engine, no cluster), so this checks what can be:
 * they parse, and every service command in them is one our command line accepts.
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
        try (var parser = new YAMLFactory().createParser(DEPLOY.resolve("k8s/neuron-explain.yaml").toFile())) {
            for (JsonNode doc : YAML.readValues(parser, JsonNode.class).readAll()) {
                for (JsonNode container : doc.path("spec").path("template").path("spec").path("containers")) {
                    assertParses(container.path("name").asText(), container.path("args"));
                    checked.add(container.path("name").asText());
                }
            }
        }
        assertEquals(List.of("watcher", "producer", "explainer", "simulator", "scorer"), checked);
    }

    @Test
    void grafanaDashboardIsJsonWithQueries() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(Files.readString(DEPLOY.resolve("grafana/neuron-explainer.json")));
        assertFalse(dashboard.path("panels").isEmpty());
        for (JsonNode panel : dashboard.path("panels")) {
            assertFalse(panel.path("targets").path(0).path("expr").asText().isBlank(), panel.path("title").asText());
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
