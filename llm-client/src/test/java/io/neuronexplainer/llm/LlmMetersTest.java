package io.neuronexplainer.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.neuronexplainer.llm.test.OpenAiTestServer;
import io.neuronexplainer.llm.test.OpenAiTestServer.Reply;
import io.neuronexplainer.schemas.NeuronKey;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The LLM meters as Prometheus scrapes them: the names and labels the dashboard and alerts query. */
class LlmMetersTest {
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    /** The value of the one sample of {@code name} whose labels include every {@code label="value"} given. */
    private static double sample(String scrape, String name, String... labels) {
        List<String> lines = scrape.lines()
                .filter(l -> l.startsWith(name + "{"))
                .filter(l -> Arrays.stream(labels).allMatch(l::contains))
                .toList();
        assertEquals(1, lines.size(), "one " + name + " sample with " + Arrays.toString(labels) + " in:\n"
                + scrape.lines().filter(l -> l.startsWith(name)).toList());
        String line = lines.get(0);
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }

    @Test
    void callsLatencyTokensRetriesBudgetAndCheckpointTokensAreScraped() throws Exception {
        AtomicInteger n = new AtomicInteger();
        try (OpenAiTestServer server = OpenAiTestServer.start(r -> n.incrementAndGet() == 1
                ? Reply.status(429, "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit\"}}")
                : Reply.json(OpenAiTestServer.chatCompletion("test-model", "word")));
             LlmCaller caller = new LlmCaller(new LlmSettings(server.baseUrl(), "sk-test", "test-model",
                     Duration.ofSeconds(10), new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(10)), "explainer")
                     .withBudget(6, 200_000), meters)) {
            ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("test-model")
                    .addUserMessage("say a word").build();
            for (int i = 0; i < 2; i++) {
                caller.call(client -> client.chat().completions().create(params),
                        TokenUsage::of,
                        c -> c.choices().get(0).message().content().orElse("")).get(10, TimeUnit.SECONDS);
            }
            CheckpointTokens.count(meters, "explainer", new NeuronKey("demo-gpt2", "step-100", 1, 5), 100, 7);
            CheckpointTokens.count(meters, "explainer", new NeuronKey("demo-gpt2", "step-100", 1, 6), 0, 0);

            String scrape = meters.scrape();
            assertEquals(2, sample(scrape, "llm_calls_total", "stage=\"explainer\"", "outcome=\"ok\""));
            assertEquals(1, sample(scrape, "llm_calls_total", "stage=\"explainer\"", "outcome=\"429\""));
            assertEquals(1, sample(scrape, "llm_retries_total", "stage=\"explainer\"", "reason=\"429\""));
            // A histogram, so histogram_quantile over rate(llm_latency_seconds_bucket[5m]) works.
            assertEquals(2, sample(scrape, "llm_latency_seconds_bucket", "stage=\"explainer\"", "outcome=\"ok\"", "le=\"+Inf\""));
            assertTrue(scrape.lines().filter(l -> l.startsWith("llm_latency_seconds_bucket{")).count() > 20, "buckets");
            assertEquals(200, sample(scrape, "llm_tokens_total", "stage=\"explainer\"", "kind=\"prompt\""));
            assertEquals(14, sample(scrape, "llm_tokens_total", "stage=\"explainer\"", "kind=\"completion\""));
            assertEquals(6, sample(scrape, "llm_budget_calls_per_minute", "stage=\"explainer\""));
            assertEquals(200_000, sample(scrape, "llm_budget_tokens_per_minute", "stage=\"explainer\""));
            assertEquals(0, sample(scrape, "llm_budget_waits_total", "stage=\"explainer\"", "limit=\"calls\""));
            assertEquals(0, sample(scrape, "llm_budget_waits_total", "stage=\"explainer\"", "limit=\"tokens\""));
            assertEquals(0, sample(scrape, "llm_calls_in_flight", "stage=\"explainer\""));
            String[] checkpoint = {"stage=\"explainer\"", "model=\"demo-gpt2\"", "checkpoint=\"step-100\""};
            assertEquals(100, sample(scrape, "llm_checkpoint_tokens_total", append(checkpoint, "kind=\"prompt\"")));
            assertEquals(7, sample(scrape, "llm_checkpoint_tokens_total", append(checkpoint, "kind=\"completion\"")));
        }
    }

    private static String[] append(String[] labels, String label) {
        String[] all = Arrays.copyOf(labels, labels.length + 1);
        all[labels.length] = label;
        return all;
    }
}
