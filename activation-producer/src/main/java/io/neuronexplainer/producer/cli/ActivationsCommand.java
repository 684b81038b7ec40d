package io.neuronexplainer.producer.cli;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronexplainer.producer.model.DefaultModel;
import io.neuronexplainer.producer.model.Gpt2Model;
import io.neuronexplainer.producer.model.Gpt2Tokenizer;
import io.neuronexplainer.runtime.CliCommand;
import io.neuronexplainer.runtime.ServiceMain;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code activations}: one text's tokens, ids and every layer's MLP neuron activations as JSON, to
 * check the forward pass against other implementations.
 */
@Command(name = "activations", mixinStandardHelpOptions = true,
        description = "Print a text's tokens, token ids and the post-GELU MLP activations of every layer as JSON: "
                + "{\"tokens\": [...], \"ids\": [...], \"activations\": [layer][token][neuron]}.")
public class ActivationsCommand implements Callable<Integer>, CliCommand {
    @Option(names = "--model", description = "A GPT-2 folder with config.json and model.safetensors (default: models/demo-gpt2/final).")
    Path model;

    @Option(names = "--tokenizer", description = "tokenizer.json (default: the model folder's, else its parent's).")
    Path tokenizer;

    @Option(names = "--text", required = true, description = "The text to run.")
    String text;

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            Path folder = model != null ? model : DefaultModel.folder();
            try (Gpt2Model gpt2 = Gpt2Model.load(folder); Gpt2Tokenizer tok = Gpt2Tokenizer.forModel(folder, tokenizer)) {
                int[] ids = tok.encode(text);
                if (ids.length == 0) {
                    throw new IllegalArgumentException("--text gives no tokens");
                }
                if (ids.length > gpt2.contextLength()) {
                    throw new IllegalArgumentException("--text has " + ids.length + " tokens, more than the model's context of "
                            + gpt2.contextLength());
                }
                float[][] activations = gpt2.mlpActivations(new int[][] {ids}, IntStream.range(0, gpt2.layers()).toArray());
                write(System.out, tok, ids, activations, gpt2.neuronsPerLayer());
            }
            return 0;
        });
    }

    private static void write(PrintStream out, Gpt2Tokenizer tok, int[] ids, float[][] activations, int neurons) throws java.io.IOException {
        try (JsonGenerator json = new ObjectMapper().getFactory().createGenerator(out, JsonEncoding.UTF8)
                .configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false)) {
            json.writeStartObject();
            json.writeArrayFieldStart("tokens");
            for (int id : ids) {
                json.writeString(tok.tokenText(id));
            }
            json.writeEndArray();
            json.writeFieldName("ids");
            json.writeArray(ids, 0, ids.length);
            json.writeArrayFieldStart("activations");
            for (float[] layer : activations) {
                json.writeStartArray();
                for (int t = 0; t < ids.length; t++) {
                    json.writeStartArray();
                    for (int n = 0; n < neurons; n++) {
                        json.writeNumber(layer[t * neurons + n]);
                    }
                    json.writeEndArray();
                }
                json.writeEndArray();
            }
            json.writeEndArray();
            json.writeEndObject();
        }
        out.println();
        out.flush();
    }
}
