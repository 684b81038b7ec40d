package io.neuronexplainer.producer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronexplainer.producer.model.SafetensorsFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The {@code activations} command's JSON, checked against HuggingFace's activations, and its bad-input line. */
class ActivationsCommandTest {
    private static final Path ROOT = Path.of(System.getProperty("neuron.project.root", "..")).toAbsolutePath();

    @Test
    void printsTokensIdsAndActivationsIndexedLayerTokenNeuron() throws Exception {
        Path fixture = Path.of(getClass().getResource("/reference_activations.safetensors").toURI());
        try (SafetensorsFile reference = SafetensorsFile.open(fixture)) {
            String text = new ObjectMapper().readValue(reference.metadata().get("texts"), new TypeReference<List<String>>() {}).get(0);
            Run run = run("--model", ROOT.resolve("models/demo-gpt2/final").toString(), "--text", text);
            assertEquals(0, run.exit, run.err);
            JsonNode json = new ObjectMapper().readTree(run.out);
            long[] ids = reference.longs("ids.0");
            assertEquals(ids.length, json.get("ids").size());
            StringBuilder joined = new StringBuilder();
            for (int t = 0; t < ids.length; t++) {
                assertEquals(ids[t], json.get("ids").get(t).asLong());
                joined.append(json.get("tokens").get(t).asText());
            }
            assertEquals(text, joined.toString());
            float[] expected = reference.floats("mlp_act.0"); // [layer][token][neuron]
            JsonNode activations = json.get("activations");
            assertEquals(6, activations.size());
            int neurons = 512;
            for (int layer = 0; layer < 6; layer++) {
                assertEquals(ids.length, activations.get(layer).size());
                for (int t = 0; t < ids.length; t++) {
                    JsonNode row = activations.get(layer).get(t);
                    assertEquals(neurons, row.size());
                    for (int n = 0; n < neurons; n++) {
                        float want = expected[(layer * ids.length + t) * neurons + n];
                        assertEquals(want, row.get(n).floatValue(), 1e-4, "layer " + layer + " token " + t + " neuron " + n);
                    }
                }
            }
        }
    }

    @Test
    void aMissingModelIsOneErrorLine() {
        Run run = run("--model", "/nonexistent/gpt2", "--tokenizer", ROOT.resolve("models/demo-gpt2/tokenizer.json").toString(), "--text", "hi");
        assertEquals(1, run.exit);
        assertEquals("", run.out);
        // Log lines (timestamped) may precede it; the error itself is one line, with no stack trace.
        List<String> lines = run.err.lines().filter(l -> !l.matches("^\\d\\d:\\d\\d:\\d\\d\\.\\d+ .*")).toList();
        assertEquals(1, lines.size(), run.err);
        assertTrue(lines.get(0).startsWith("error: /nonexistent/gpt2: model folder not found"), run.err);
    }

    private record Run(int exit, String out, String err) {}

    private static Run run(String... args) {
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = new CommandLine(new ActivationsCommand()).execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }
}
