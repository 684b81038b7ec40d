package io.neuronexplainer.watcher.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HubWebhookTest {
    private static final String REPO = "demo-org/demo-gpt2";
    private static final String SECRET = "webhook-secret";
    private static final String UPDATE = """
            {"event":{"action":"update","scope":"repo.content"},
             "repo":{"type":"model","name":"demo-org/demo-gpt2","id":"6500","private":false,"headSha":"abc"},
             "updatedRefs":[
               {"ref":"refs/heads/step2000","oldSha":null,"newSha":"1111111111111111111111111111111111111111"},
               {"ref":"refs/pr/3","oldSha":null,"newSha":"2222222222222222222222222222222222222222"},
               {"ref":"refs/heads/step1000","oldSha":"3333333333333333333333333333333333333333","newSha":null},
               {"ref":"refs/heads/step500","oldSha":"4444444444444444444444444444444444444444","newSha":"0000000000000000000000000000000000000000"}
             ]}""";

    private final List<List<String>> calls = new CopyOnWriteArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private HttpServer server;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(HubWebhookHandler.PATH, new HubWebhookHandler(new HubWebhook(REPO, SECRET), calls::add));
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aWrongOrMissingSecretIsRefused() throws Exception {
        assertEquals(401, post(UPDATE, "not-the-secret").statusCode());
        assertEquals(401, post(UPDATE, null).statusCode());
        assertEquals(List.of(), calls);
    }

    @Test
    void updatedBranchesReachTheCallback() throws Exception {
        HttpResponse<String> response = post(UPDATE, SECRET);
        assertEquals(202, response.statusCode(), response.body());
        assertEquals(List.of(List.of("step2000")), calls);
    }

    @Test
    void otherScopesAndRepositoriesAreIgnored() throws Exception {
        HttpResponse<String> discussion = post(UPDATE.replace("\"repo.content\"", "\"discussion.comment\""), SECRET);
        assertEquals(200, discussion.statusCode());
        assertTrue(discussion.body().startsWith("ignored: scope discussion.comment"), discussion.body());
        assertEquals(200, post(UPDATE.replace("demo-org/demo-gpt2", "other/model"), SECRET).statusCode());
        assertEquals(200, post(UPDATE.replace("refs/heads/step2000", "refs/tags/v1"), SECRET).statusCode());
        assertEquals(List.of(), calls);
    }

    @Test
    void aMalformedBodyIsABadRequest() throws Exception {
        HttpResponse<String> response = post("{not json", SECRET);
        assertEquals(400, response.statusCode());
        assertEquals("body is not JSON", response.body().strip());
        assertEquals(400, post("[1,2]", SECRET).statusCode());
        assertEquals(List.of(), calls);
    }

    @Test
    void onlyPostIsAllowed() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(url()).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, response.statusCode());
        assertEquals("POST", response.headers().firstValue("Allow").orElse(""));
    }

    @Test
    void aWebhookNeedsASecret() {
        assertThrows(IllegalArgumentException.class, () -> new HubWebhook(REPO, " "));
    }

    private HttpResponse<String> post(String body, String secret) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(url())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (secret != null) {
            request.header(HubWebhook.SECRET_HEADER, secret);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + HubWebhookHandler.PATH);
    }
}
