package io.neuronexplainer.launcher;

import io.neuronexplainer.bench.DelayedOpenAiServer;
import io.neuronexplainer.llm.test.OpenAiTestServer;
import io.neuronexplainer.llm.test.OpenAiTestServer.Reply;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.Set;

/**
 * A local OpenAI-format server for the demo's tests: the benchmark's fake LLM answers every call,
 * except the explainer's calls (those naming {@code explainerModel}) for the first {@code garbled}
 * distinct prompts, answered blank every time, so the explainer dead-letters those neurons.
 */
final class GarblingLlm implements AutoCloseable {
    private final HttpClient http = HttpClient.newHttpClient();
    private final Set<String> garbled = new HashSet<>();
    private final Set<String> answered = new HashSet<>();
    private final DelayedOpenAiServer llm;
    private final OpenAiTestServer server;

    GarblingLlm(String explainerModel, int garbledPrompts) throws IOException {
        this.llm = DelayedOpenAiServer.start(0);
        this.server = OpenAiTestServer.start(r -> {
            if (r.body() != null && explainerModel.equals(r.body().path("model").asText())) {
                String prompt = r.body().path("messages").toString();
                synchronized (garbled) {
                    if (garbled.contains(prompt) || !answered.contains(prompt) && garbled.size() < garbledPrompts) {
                        garbled.add(prompt);
                        return Reply.json(OpenAiTestServer.chatCompletion(explainerModel, "  \n "));
                    }
                    answered.add(prompt);
                }
            }
            return forward(r);
        });
    }

    String baseUrl() {
        return server.baseUrl();
    }

    /** Hands the request to the benchmark's fake LLM and returns its answer. */
    private Reply forward(OpenAiTestServer.Request r) {
        try {
            String base = llm.baseUrl().substring(0, llm.baseUrl().length() - "/v1".length());
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(base + r.path()))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(r.body() == null ? "" : r.body().toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            return Reply.status(answer.statusCode(), answer.body());
        } catch (IOException | InterruptedException e) {
            return Reply.status(500, "{\"error\":{\"message\":" + OpenAiTestServer.quote(e.toString()) + "}}");
        }
    }

    @Override
    public void close() {
        server.close();
        llm.close();
    }
}
