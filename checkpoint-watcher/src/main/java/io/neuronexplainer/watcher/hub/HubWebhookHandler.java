package io.neuronexplainer.watcher.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the Hub's webhook calls at {@value #PATH}: hands the updated branch names of the
 * watched repository to a callback (which should start a poll, not wait for one) and answers
 * 202, or 200 for an event it ignores, 401 for a wrong secret, 400 for a body it cannot read.
 */
public final class HubWebhookHandler implements HttpHandler {
    public static final String PATH = "/webhooks/huggingface";
    /** Hub events are small; a larger body is not one. */
    private static final int MAX_BODY_BYTES = 1 << 20;

    private static final Logger log = LoggerFactory.getLogger(HubWebhookHandler.class);

    private final HubWebhook webhook;
    private final Consumer<List<String>> onBranchesUpdated;

    public HubWebhookHandler(HubWebhook webhook, Consumer<List<String>> onBranchesUpdated) {
        this.webhook = webhook;
        this.onBranchesUpdated = onBranchesUpdated;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"POST".equals(exchange.getRequestMethod())) {
                exchange.getResponseHeaders().set("Allow", "POST");
                answer(exchange, 405, "only POST");
                return;
            }
            if (!webhook.secretMatches(exchange.getRequestHeaders().getFirst(HubWebhook.SECRET_HEADER))) {
                log.warn("Refused a Hub webhook call from {}: missing or wrong {}", exchange.getRemoteAddress(), HubWebhook.SECRET_HEADER);
                answer(exchange, 401, "missing or wrong " + HubWebhook.SECRET_HEADER);
                return;
            }
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readNBytes(MAX_BODY_BYTES + 1);
            }
            if (body.length > MAX_BODY_BYTES) {
                answer(exchange, 413, "body larger than " + MAX_BODY_BYTES + " bytes");
                return;
            }
            HubWebhook.Update update;
            try {
                update = webhook.read(body);
            } catch (IllegalArgumentException e) {
                answer(exchange, 400, e.getMessage());
                return;
            }
            if (update.ignored()) {
                log.debug("Ignored a Hub webhook call: {}", update.ignoredBecause());
                answer(exchange, 200, "ignored: " + update.ignoredBecause());
                return;
            }
            log.info("Hub webhook: branches {} updated", update.branches());
            try {
                onBranchesUpdated.accept(update.branches());
            } catch (RuntimeException e) {
                log.warn("Hub webhook callback failed", e);
                answer(exchange, 500, "could not start a poll: " + e.getClass().getSimpleName());
                return;
            }
            answer(exchange, 202, "accepted: " + String.join(", ", update.branches()));
        }
    }

    private static void answer(HttpExchange exchange, int status, String line) throws IOException {
        byte[] body = (line + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }
}
