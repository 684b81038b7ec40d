package io.neuronexplainer.watcher;

import com.sun.net.httpserver.HttpExchange;
import io.neuronexplainer.runtime.CliCommand;
import io.neuronexplainer.runtime.Connection;
import io.neuronexplainer.runtime.ConnectionOptions;
import io.neuronexplainer.runtime.MetricsServer;
import io.neuronexplainer.runtime.ServiceMain;
import io.neuronexplainer.watcher.folder.FolderSource;
import io.neuronexplainer.watcher.hub.HubClient;
import io.neuronexplainer.watcher.hub.HubSource;
import io.neuronexplainer.watcher.hub.HubWebhook;
import io.neuronexplainer.watcher.hub.HubWebhookHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code neuron-explain watch}: the checkpoint watcher service. */
@Command(name = "watch", mixinStandardHelpOptions = true,
        description = "Watch a training run's folder or a Hugging Face Hub repository and release each new, complete "
                + "checkpoint once, in training-step order, to topic checkpoints (for `produce --follow`).")
public class WatchCommand implements Callable<Integer>, CliCommand {
    @Option(names = "--folder", paramLabel = "DIR",
            description = "A training run's folder: each subfolder with config.json and model.safetensors (or a sharded "
                    + "set with model.safetensors.index.json) is a checkpoint.")
    Path folder;

    @Option(names = "--hub-repo", paramLabel = "ORG/NAME",
            description = "A Hugging Face Hub model repository whose branches are checkpoints (e.g. EleutherAI/pythia-70m).")
    String hubRepo;

    @Option(names = "--model-name", description = "Model name in the records (default: the folder's or repository's name).")
    String modelName;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json when a checkpoint has none (default: the checkpoint's, else its parent folder's; "
                    + "on the Hub, the revision's, else the main branch's).")
    Path tokenizer;

    @Option(names = "--settle-s", defaultValue = "30",
            description = "Folder: a checkpoint is complete when its files have not changed for this long (default: ${DEFAULT-VALUE}).")
    long settleSeconds;

    @Option(names = "--ready-file", paramLabel = "NAME",
            description = "Folder: a checkpoint is complete as soon as this marker file is in it (instead of --settle-s).")
    String readyFile;

    @Option(names = "--poll-s", defaultValue = "30", description = "Seconds between polls (default: ${DEFAULT-VALUE}).")
    long pollSeconds;

    @Option(names = "--revision-pattern", defaultValue = CheckpointStep.DEFAULT_PATTERN,
            description = "Regex whose first group is the training step in a branch or folder name (default: ${DEFAULT-VALUE}); "
                    + "else the step in the checkpoint's training_state.json.")
    String revisionPattern;

    @Option(names = "--from-step", description = "Release only checkpoints from this training step on.")
    Long fromStep;

    @Option(names = "--every", paramLabel = "N", description = "Release only checkpoints whose step is a multiple of N.")
    Long every;

    @Option(names = "--order", defaultValue = "oldest-first",
            description = "Release order of a backlog: oldest-first or newest-first (default: ${DEFAULT-VALUE}).")
    String order;

    @Option(names = "--hub-endpoint", defaultValue = "${env:HF_ENDPOINT:-https://huggingface.co}",
            description = "The Hub's address (default: HF_ENDPOINT, else ${DEFAULT-VALUE}); the token comes from HF_TOKEN.")
    String hubEndpoint;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where Hub checkpoints are downloaded (a volume the producers share; default: <data-dir>/hub-cache).")
    Path cacheDir;

    @Option(names = "--webhook-secret", defaultValue = "${env:HF_WEBHOOK_SECRET}",
            description = "Secret a Hub webhook sends in X-Webhook-Secret; POST /webhooks/huggingface on --http-port. "
                    + "Env: HF_WEBHOOK_SECRET.")
    String webhookSecret;

    @Option(names = "--http-port", defaultValue = "-1",
            description = "Port for /metrics, /health/live, /health/ready and /webhooks/huggingface; 0 for a free one "
                    + "(default: ${DEFAULT-VALUE} = off).")
    int httpPort;

    @Option(names = "--http-host", defaultValue = "127.0.0.1",
            description = "Address the HTTP port binds, e.g. 0.0.0.0 in a container (default: ${DEFAULT-VALUE}).")
    String httpHost;

    @Option(names = "--once", description = "Poll once, release what is ready, and exit.")
    boolean once;

    @Option(names = "--until-step", description = "Exit once a checkpoint at or past this training step is released "
            + "(the run's last step); default: watch until stopped.")
    Long untilStep;

    @Mixin
    ConnectionOptions connection;

    @Override
    public Integer call() {
        return ServiceMain.run(() -> {
            CheckpointWatcher.Settings settings = new CheckpointWatcher.Settings(modelName(), Duration.ofSeconds(pollSeconds),
                    backlog(), untilStep);
            if (pollSeconds <= 0) {
                throw new IllegalArgumentException("--poll-s must be positive, not " + pollSeconds);
            }
            CheckpointSource source = source();
            try (Connection kafka = connection.open();
                 MetricsServer http = MetricsServer.start(CheckpointWatcher.STAGE, httpHost, httpPort);
                 CheckpointWatcher watcher = new CheckpointWatcher(kafka.clients(), source, settings, http.registry())) {
                http.handle("/health/live", exchange -> answer(exchange, 200, "live"));
                http.handle("/health/ready", exchange -> answer(exchange, watcher.ready() ? 200 : 503,
                        watcher.ready() ? "ready" : "not ready: " + watcher.lastError()));
                if (hubRepo != null && webhookSecret != null && !webhookSecret.isBlank()) {
                    http.handle(HubWebhookHandler.PATH, new HubWebhookHandler(new HubWebhook(hubRepo, webhookSecret), refs -> watcher.wake()));
                }
                if (http.port() >= 0) {
                    System.err.printf("watcher HTTP on %s:%d (/metrics, /health/ready%s)%n", httpHost, http.port(),
                            hubRepo != null && webhookSecret != null ? ", /webhooks/huggingface" : "");
                }
                if (once) {
                    watcher.start();
                    int released = watcher.pollOnce();
                    System.out.printf("released %d checkpoint(s) of %s from %s%n", released, settings.model(), source.describe());
                    return 0;
                }
                Thread main = Thread.currentThread();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    watcher.stop();
                    try {
                        main.join(10_000);
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                }));
                watcher.run();
            }
            return 0;
        });
    }

    private CheckpointSource source() throws IOException {
        if ((folder == null) == (hubRepo == null)) {
            throw new IllegalArgumentException("give one source: --folder DIR or --hub-repo ORG/NAME");
        }
        Pattern pattern;
        try {
            pattern = Pattern.compile(revisionPattern);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("--revision-pattern " + revisionPattern + ": " + e.getDescription());
        }
        if (tokenizer != null && !Files.isRegularFile(tokenizer)) {
            throw new IllegalArgumentException("--tokenizer " + tokenizer + ": no such file");
        }
        if (folder != null) {
            if (!Files.isDirectory(folder)) {
                throw new IllegalArgumentException("--folder " + folder + ": no such folder");
            }
            if (settleSeconds < 0) {
                throw new IllegalArgumentException("--settle-s must be >= 0, not " + settleSeconds);
            }
            return new FolderSource(folder, pattern, Duration.ofSeconds(settleSeconds), readyFile, tokenizer, Clock.systemUTC());
        }
        if (!hubRepo.matches("[A-Za-z0-9][\\w.-]*/[\\w.-]+")) {
            throw new IllegalArgumentException("--hub-repo " + hubRepo + ": expected ORG/NAME");
        }
        Path cache = cacheDir != null ? cacheDir : connection.dataDir().resolve("hub-cache");
        Files.createDirectories(cache);
        return new HubSource(new HubClient(hubEndpoint, System.getenv("HF_TOKEN")), hubRepo, pattern, cache, tokenizer);
    }

    private String modelName() {
        if (modelName != null) {
            return modelName;
        }
        if (hubRepo != null) {
            return hubRepo.substring(hubRepo.indexOf('/') + 1);
        }
        return folder == null ? "model" : folder.toAbsolutePath().normalize().getFileName().toString();
    }

    private BacklogPolicy backlog() {
        BacklogPolicy.Order o = switch (order) {
            case "oldest-first" -> BacklogPolicy.Order.OLDEST_FIRST;
            case "newest-first" -> BacklogPolicy.Order.NEWEST_FIRST;
            default -> throw new IllegalArgumentException("--order " + order + ": oldest-first or newest-first");
        };
        return new BacklogPolicy(fromStep, every, o);
    }

    private static void answer(HttpExchange exchange, int status, String text) throws IOException {
        byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
