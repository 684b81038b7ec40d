package io.neuronexplainer.watcher.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a Hugging Face Hub webhook call for one model repository: checks its secret and tells
 * which branches of the repository it updated, so the watcher can poll at once instead of waiting.
 */
public final class HubWebhook {
    public static final String SECRET_HEADER = "X-Webhook-Secret";
    private static final String CONTENT_SCOPE = "repo.content";
    private static final String BRANCH_PREFIX = "refs/heads/";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String repo;
    private final byte[] secret;

    /** What a call asks for: the updated branches, or why it is ignored (then {@code branches} is empty). */
    public record Update(List<String> branches, String ignoredBecause) {
        public boolean ignored() {
            return ignoredBecause != null;
        }
    }

    /**
     * @param repo the model repository ({@code ORG/NAME}) whose events count
     * @param secret the secret configured with the webhook on the Hub; required, since anyone can reach the endpoint
     */
    public HubWebhook(String repo, String secret) {
        if (secret == null || secret.isBlank()) {
            throw new IllegalArgumentException("a Hub webhook needs a secret (set the same one on the Hub's webhook page)");
        }
        this.repo = repo;
        this.secret = secret.getBytes(StandardCharsets.UTF_8);
    }

    /** Whether the {@value #SECRET_HEADER} value is the configured secret; constant time, so timing reveals nothing of it. */
    public boolean secretMatches(String given) {
        return given != null && MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The branches an event body updated: {@code refs/heads/} stripped, pull-request and other refs
     * and deletions left out.
     *
     * @throws IllegalArgumentException when the body is not a webhook event, with the reason in one line
     */
    public Update read(byte[] body) {
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("body is not JSON");
        }
        if (json == null || !json.isObject() || !json.path("event").isObject() || !json.path("repo").isObject()) {
            throw new IllegalArgumentException("body is not a Hub webhook event (needs event and repo objects)");
        }
        String scope = json.path("event").path("scope").asText("");
        String action = json.path("event").path("action").asText("");
        String name = json.path("repo").path("name").asText("");
        String type = json.path("repo").path("type").asText("model");
        if (!name.equalsIgnoreCase(repo) || !type.equals("model")) {
            return new Update(List.of(), "event for " + type + " " + name + ", not model " + repo);
        }
        if (!scope.startsWith(CONTENT_SCOPE)) {
            return new Update(List.of(), "scope " + scope + " is not " + CONTENT_SCOPE);
        }
        if (action.equals("delete")) {
            return new Update(List.of(), "the repository was deleted");
        }
        JsonNode refs = json.path("updatedRefs");
        if (!refs.isMissingNode() && !refs.isNull() && !refs.isArray()) {
            throw new IllegalArgumentException("updatedRefs is not an array");
        }
        List<String> branches = new ArrayList<>();
        for (JsonNode r : refs) {
            String ref = r.path("ref").asText("");
            String newSha = r.path("newSha").isTextual() ? r.path("newSha").asText() : "";
            if (!ref.startsWith(BRANCH_PREFIX) || newSha.isEmpty() || newSha.chars().allMatch(c -> c == '0')) {
                continue; // pull requests, tags and deleted branches hold no new checkpoint
            }
            String branch = ref.substring(BRANCH_PREFIX.length());
            if (!branch.isEmpty() && !branches.contains(branch)) {
                branches.add(branch);
            }
        }
        return branches.isEmpty() ? new Update(List.of(), "no branch was created or moved") : new Update(List.copyOf(branches), null);
    }
}
