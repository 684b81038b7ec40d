package io.neuronexplainer.watcher.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The few Hugging Face Hub HTTP calls the watcher needs: a model repository's branches, a
 * revision's file listing, small files as text, and resumable, verified downloads.
 */
public final class HubClient {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    private static final Logger log = LoggerFactory.getLogger(HubClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern NEXT_LINK = Pattern.compile("<([^>]+)>\\s*;\\s*rel=\"?next\"?");
    private static final Pattern CONTENT_RANGE_START = Pattern.compile("bytes\\s+(\\d+)-");
    private static final int MAX_REDIRECTS = 10;
    private static final int MAX_TREE_PAGES = 10_000;
    private static final long PROGRESS_EVERY_NANOS = Duration.ofSeconds(10).toNanos();
    private static final long LOG_COMPLETION_ABOVE_BYTES = 50L << 20;

    private final URI endpoint;
    private final String token;
    private final HttpClient http;
    private final Duration requestTimeout;
    private final Duration stallTimeout;

    /** A client of {@code endpoint} sending {@code token} (null or blank: anonymous), with 30 s request and 60 s stall limits. */
    public HubClient(String endpoint, String token) {
        this(endpoint, token, Duration.ofSeconds(30), Duration.ofSeconds(60));
    }

    /**
     * @param requestTimeout how long a request may wait for its response headers
     * @param stallTimeout how long a download may receive no byte before it is abandoned (and later resumed)
     */
    public HubClient(String endpoint, String token, Duration requestTimeout, Duration stallTimeout) {
        String base = endpoint == null || endpoint.isBlank() ? DEFAULT_ENDPOINT : endpoint.strip();
        this.endpoint = URI.create(base.endsWith("/") ? base.substring(0, base.length() - 1) : base);
        if (this.endpoint.getScheme() == null || this.endpoint.getHost() == null) {
            throw new IllegalArgumentException("Hub endpoint " + endpoint + " is not an http(s) URL");
        }
        this.token = token == null || token.isBlank() ? null : token.strip();
        this.requestTimeout = requestTimeout;
        this.stallTimeout = stallTimeout;
        // Redirects are followed by hand: the token must not travel to the storage host a file redirects to.
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** A client configured by {@code HF_ENDPOINT} and {@code HF_TOKEN}, as the Hub's own tools are. */
    public static HubClient fromEnvironment() {
        return new HubClient(System.getenv("HF_ENDPOINT"), System.getenv("HF_TOKEN"));
    }

    public URI endpoint() {
        return endpoint;
    }

    /** The model repository's branches ({@code repo} is {@code ORG/NAME}). */
    public List<HubBranch> refs(String repo) throws IOException {
        JsonNode json = getJson(api(repo, "/refs"));
        List<HubBranch> branches = new ArrayList<>();
        for (JsonNode b : json.path("branches")) {
            String name = b.path("name").asText("");
            String ref = b.path("ref").asText("refs/heads/" + name);
            String commit = b.path("targetCommit").asText("");
            if (!name.isEmpty() && !commit.isEmpty()) {
                branches.add(new HubBranch(name, ref, commit));
            }
        }
        return branches;
    }

    /** The files (not folders) at the top of a revision, following the listing's pages. */
    public List<HubFile> tree(String repo, String revision) throws IOException {
        List<HubFile> files = new ArrayList<>();
        URI page = api(repo, "/tree/" + segment(revision));
        for (int pages = 0; page != null; pages++) {
            if (pages == MAX_TREE_PAGES) {
                throw new IOException("file listing of " + repo + "@" + revision + " has more than " + MAX_TREE_PAGES + " pages");
            }
            HttpResponse<byte[]> response = send(page, null, HttpResponse.BodyHandlers.ofByteArray());
            JsonNode json = parse(response);
            if (!json.isArray()) {
                throw new IOException("GET " + response.uri() + " did not answer a JSON array of files");
            }
            for (JsonNode f : json) {
                if (!"file".equals(f.path("type").asText())) {
                    continue;
                }
                JsonNode lfs = f.path("lfs");
                String sha256 = lfs.hasNonNull("oid") ? lfs.path("oid").asText().toLowerCase(Locale.ROOT) : null;
                long size = lfs.hasNonNull("size") ? lfs.path("size").asLong() : f.path("size").asLong(-1);
                files.add(new HubFile(f.path("path").asText(), size, sha256));
            }
            page = nextPage(response);
        }
        return files;
    }

    /** A small file of a revision as UTF-8 text. */
    public String readText(String repo, String revision, String path) throws IOException {
        HttpResponse<byte[]> response = send(resolve(repo, revision, path), null, HttpResponse.BodyHandlers.ofByteArray());
        return new String(response.body(), StandardCharsets.UTF_8);
    }

    /**
     * Downloads a file of a revision to {@code target} through {@code target.part}, continuing a
     * part left by an earlier attempt, then checks its size and (LFS files) sha256. A target that
     * already exists is checked and kept when it matches.
     *
     * @throws HubIntegrityException when the bytes do not match the listing (the part is deleted)
     * @throws IOException when the transfer fails or stalls (the part is kept for the next attempt)
     */
    public void download(String repo, String revision, HubFile file, Path target) throws IOException {
        URI url = resolve(repo, revision, file.path());
        if (Files.isRegularFile(target)) {
            if (mismatch(url, file, target) == null) {
                return;
            }
            Files.delete(target); // a stale or foreign file: fetch it afresh
        }
        Files.createDirectories(target.toAbsolutePath().getParent());
        Path part = target.resolveSibling(target.getFileName() + ".part");
        long have = Files.isRegularFile(part) ? Files.size(part) : 0;
        if (file.size() >= 0 && have > file.size()) {
            Files.delete(part);
            have = 0;
        }
        if (file.size() < 0 || have < file.size()) {
            transfer(url, file, part, have);
        }
        String problem = mismatch(url, file, part);
        if (problem != null) {
            Files.deleteIfExists(part);
            throw new HubIntegrityException(problem);
        }
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public String toString() {
        return "Hub at " + endpoint + (token == null ? " (anonymous)" : " (with token)");
    }

    private void transfer(URI url, HubFile file, Path part, long have) throws IOException {
        HttpResponse<InputStream> response;
        try {
            response = send(url, have > 0 ? "bytes=" + have + "-" : null, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HubHttpException e) {
            if (e.status() != 416 || have == 0) {
                throw e;
            }
            // The part does not fit the file (the listing's size was wrong or the part is foreign): start over.
            Files.delete(part);
            transfer(url, file, part, 0);
            return;
        }
        long start = 0;
        if (response.statusCode() == 206) {
            start = response.headers().firstValue("Content-Range")
                    .map(CONTENT_RANGE_START::matcher).filter(Matcher::find).map(m -> Long.parseLong(m.group(1))).orElse(-1L);
            if (start != have) {
                response.body().close();
                Files.deleteIfExists(part);
                throw new IOException("GET " + url + " answered a range starting at " + start + " instead of " + have
                        + "; the partial file was dropped, the next attempt starts over");
            }
            log.info("Resuming {} at {} of {} bytes", url, have, file.size());
        } else if (have > 0) {
            log.info("{} ignored the range request; downloading it from the start", url);
        }
        StandardOpenOption mode = start > 0 ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING;
        long done = start;
        long began = System.nanoTime();
        long lastLog = began;
        try (InputStream in = response.body();
                OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode);
                StallGuard guard = new StallGuard(in, stallTimeout)) {
            byte[] buffer = new byte[1 << 16];
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                    guard.progress();
                    done += n;
                    long now = System.nanoTime();
                    if (now - lastLog >= PROGRESS_EVERY_NANOS) {
                        lastLog = now;
                        log.info("Downloading {}: {} of {} MB", file.path(), mb(done), mb(file.size()));
                    }
                }
            } catch (IOException e) {
                if (guard.fired()) {
                    throw new IOException("download of " + url + " stalled: no byte for "
                            + String.format(Locale.ROOT, "%.1f", stallTimeout.toMillis() / 1000.0) + " s at " + done
                            + " of " + file.size() + " bytes (the next attempt resumes)");
                }
                throw new IOException("download of " + url + " broke off at " + done + " of " + file.size()
                        + " bytes (the next attempt resumes): " + firstLine(e), e);
            }
        }
        if (file.size() > LOG_COMPLETION_ABOVE_BYTES) {
            log.info("Downloaded {} ({} MB in {} s)", file.path(), mb(file.size()), Duration.ofNanos(System.nanoTime() - began).toSeconds());
        }
    }

    /** Why the bytes at {@code path} are not {@code file}, or null when they are. */
    private static String mismatch(URI url, HubFile file, Path path) throws IOException {
        long size = Files.size(path);
        if (file.size() >= 0 && size != file.size()) {
            return file.path() + " from " + url + " has " + size + " bytes, the listing says " + file.size();
        }
        if (file.sha256() != null) {
            String actual = sha256(path);
            if (!actual.equalsIgnoreCase(file.sha256())) {
                return file.path() + " from " + url + " is corrupt: sha256 " + actual + ", the listing says " + file.sha256();
            }
        }
        return null;
    }

    private static String sha256(Path path) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
        try (InputStream in = Files.newInputStream(path)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private JsonNode getJson(URI url) throws IOException {
        return parse(send(url, null, HttpResponse.BodyHandlers.ofByteArray()));
    }

    private static JsonNode parse(HttpResponse<byte[]> response) throws IOException {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new IOException("GET " + response.uri() + " did not answer JSON: " + firstLine(e));
        }
    }

    /** Sends a GET, following redirects; answers 2xx responses only (an error status throws). */
    private <T> HttpResponse<T> send(URI url, String range, HttpResponse.BodyHandler<T> handler) throws IOException {
        URI current = url;
        for (int redirects = 0; ; redirects++) {
            HttpRequest.Builder request = HttpRequest.newBuilder(current).timeout(requestTimeout).GET()
                    .header("User-Agent", "neuron-explainer-checkpoint-watcher");
            if (token != null && sameOrigin(current, endpoint)) {
                request.header("Authorization", "Bearer " + token);
            }
            if (range != null) {
                request.header("Range", range);
            }
            HttpResponse<T> response;
            try {
                response = http.send(request.build(), handler);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted during GET " + current);
            } catch (IOException e) {
                throw new IOException("GET " + current + " failed: " + firstLine(e), e);
            }
            int status = response.statusCode();
            if (status >= 200 && status < 300) {
                return response;
            }
            discard(response);
            if (status >= 300 && status < 400 && status != 304) {
                String location = response.headers().firstValue("Location").orElse(null);
                if (location == null) {
                    throw new IOException("GET " + current + " answered HTTP " + status + " without a Location");
                }
                if (redirects == MAX_REDIRECTS) {
                    throw new IOException("GET " + url + " redirected more than " + MAX_REDIRECTS + " times");
                }
                current = current.resolve(location);
                continue;
            }
            throw new HubHttpException(current, status);
        }
    }

    private static void discard(HttpResponse<?> response) {
        if (response.body() instanceof InputStream in) {
            try {
                in.close();
            } catch (IOException ignored) {
                // The connection is dropped instead of reused.
            }
        }
    }

    private static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort();
    }

    private static URI nextPage(HttpResponse<?> response) {
        HttpHeaders headers = response.headers();
        for (String link : headers.allValues("Link")) {
            Matcher m = NEXT_LINK.matcher(link);
            if (m.find()) {
                return response.uri().resolve(m.group(1));
            }
        }
        return null;
    }

    private URI api(String repo, String tail) {
        return URI.create(endpoint + "/api/models/" + repoPath(repo) + tail);
    }

    private URI resolve(String repo, String revision, String path) {
        StringBuilder url = new StringBuilder(endpoint + "/" + repoPath(repo) + "/resolve/" + segment(revision));
        for (String part : path.split("/")) {
            url.append('/').append(segment(part));
        }
        return URI.create(url.toString());
    }

    private static String repoPath(String repo) {
        String[] parts = repo.split("/");
        if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
            throw new IllegalArgumentException("Hub repository " + repo + " is not ORG/NAME");
        }
        return segment(parts[0]) + "/" + segment(parts[1]);
    }

    /** One path segment, percent-encoded (a revision such as {@code refs/pr/1} keeps its slashes inside the segment). */
    private static String segment(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String mb(long bytes) {
        return bytes < 0 ? "?" : String.format(Locale.ROOT, "%.1f", bytes / 1048576.0);
    }

    private static String firstLine(Exception e) {
        String message = e.getMessage();
        return message == null ? e.getClass().getSimpleName() : message.lines().findFirst().orElse(e.getClass().getSimpleName());
    }
}
