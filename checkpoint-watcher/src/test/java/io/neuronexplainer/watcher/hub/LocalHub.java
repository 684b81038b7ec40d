package io.neuronexplainer.watcher.hub;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A stand-in for the Hugging Face Hub on 127.0.0.1 serving one model repository's refs, trees
 * and files in the Hub's shapes, from real files copied into a scratch folder, with the faults
 * the watcher must survive (a body cut short, a stall, a server ignoring ranges, a corrupt file,
 * a required token) and a record of every request.
 */
final class LocalHub implements AutoCloseable {
    /** One request as the server saw it; {@code range} and {@code authorization} are null when absent. */
    record Request(String method, String path, String range, String authorization) {}

    private record Entry(Path file, long size, String blobSha1, String sha256) {}

    private record Commit(String sha, Map<String, Entry> files) {}

    private record Branch(String name, String ref, Commit commit) {}

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Files from this size on are listed as LFS files, with their sha256, as on the Hub. */
    private static final long LFS_FROM_BYTES = 1 << 20;

    private final String repo;
    private final Path storage;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final Map<String, Branch> branches = new ConcurrentHashMap<>();
    private final Map<String, Commit> commits = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, Long> cutShort = new ConcurrentHashMap<>();
    private final Map<String, Long> stall = new ConcurrentHashMap<>();
    private final CountDownLatch closing = new CountDownLatch(1);
    private final AtomicInteger commitCounter = new AtomicInteger();
    private volatile String requiredToken;
    private volatile boolean ignoreRange;
    private volatile boolean redirectDownloads;
    private volatile int treePageSize = 1000;

    /** Serves model repository {@code repo} ({@code ORG/NAME}), keeping its files under {@code storage}. */
    LocalHub(String repo, Path storage) throws IOException {
        this.repo = repo;
        this.storage = storage;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(executor); // a stalled response must not hold up the others
        server.createContext("/", this::handle);
        server.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Publishes a branch ({@code refs/heads/name}) holding copies of {@code folder}'s files; returns its commit sha. */
    String addBranch(String name, Path folder) throws IOException {
        return addRef(name, "refs/heads/" + name, folder);
    }

    /** Publishes an entry of the branches list with any ref (such as {@code refs/pr/1}); returns its commit sha. */
    String addRef(String name, String ref, Path folder) throws IOException {
        String sha = sha1Hex(("commit " + commitCounter.incrementAndGet() + " " + name).getBytes(StandardCharsets.UTF_8));
        Path dir = Files.createDirectories(storage.resolve(sha));
        Map<String, Entry> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(folder)) {
            for (Path source : list.filter(Files::isRegularFile).toList()) {
                Path copy = Files.copy(source, dir.resolve(source.getFileName().toString()));
                byte[] bytes = Files.readAllBytes(copy);
                files.put(copy.getFileName().toString(), new Entry(copy, bytes.length, gitBlobSha(bytes),
                        bytes.length >= LFS_FROM_BYTES ? sha256Hex(bytes) : null));
            }
        }
        Commit commit = new Commit(sha, files);
        commits.put(sha, commit);
        branches.put(name, new Branch(name, ref, commit));
        return sha;
    }

    /** Flips one byte of a served file while its listing keeps the original size and sha256. */
    void corrupt(String branch, String path) throws IOException {
        Path file = branches.get(branch).commit().files().get(path).file();
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(file, bytes);
    }

    /** The next download of a file named {@code path} announces its full length but sends only {@code bytes}, then drops the connection. */
    void cutShortOnce(String path, long bytes) {
        cutShort.put(path, bytes);
    }

    /** The next download of {@code path} sends {@code bytes}, then nothing until the server closes. */
    void stallOnce(String path, long bytes) {
        stall.put(path, bytes);
    }

    void requireToken(String token) {
        this.requiredToken = token;
    }

    void ignoreRange(boolean ignore) {
        this.ignoreRange = ignore;
    }

    /** Downloads answer 302 to a second path of this server, as the Hub sends LFS files to its storage. */
    void redirectDownloads(boolean redirect) {
        this.redirectDownloads = redirect;
    }

    void treePageSize(int size) {
        this.treePageSize = size;
    }

    byte[] bytes(String branch, String path) throws IOException {
        return Files.readAllBytes(branches.get(branch).commit().files().get(path).file());
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    /** Requests whose path ends with {@code suffix}. */
    List<Request> requestsEndingWith(String suffix) {
        return requests.stream().filter(r -> r.path().endsWith(suffix)).toList();
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String rawPath = exchange.getRequestURI().getRawPath();
            requests.add(new Request(exchange.getRequestMethod(), decode(rawPath),
                    exchange.getRequestHeaders().getFirst("Range"), exchange.getRequestHeaders().getFirst("Authorization")));
            String token = requiredToken;
            if (token != null && !("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                text(exchange, 401, "{\"error\":\"Invalid credentials in Authorization header\"}");
                return;
            }
            List<String> parts = Arrays.stream(rawPath.substring(1).split("/")).map(LocalHub::decode).toList();
            String[] repoParts = repo.split("/");
            if (parts.size() >= 5 && parts.get(0).equals("api") && parts.get(1).equals("models")) {
                if (!parts.get(2).equals(repoParts[0]) || !parts.get(3).equals(repoParts[1])) {
                    text(exchange, 404, "{\"error\":\"Repository not found\"}");
                } else if (parts.size() == 5 && parts.get(4).equals("refs")) {
                    refs(exchange);
                } else if (parts.size() == 6 && parts.get(4).equals("tree")) {
                    tree(exchange, parts.get(5));
                } else {
                    text(exchange, 404, "{\"error\":\"no such API\"}");
                }
            } else if (parts.size() >= 5 && parts.get(2).equals("resolve")) {
                if (!parts.get(0).equals(repoParts[0]) || !parts.get(1).equals(repoParts[1])) {
                    text(exchange, 404, "{\"error\":\"Repository not found\"}");
                    return;
                }
                Commit commit = commit(parts.get(3));
                String path = String.join("/", parts.subList(4, parts.size()));
                if (commit != null && redirectDownloads && commit.files().containsKey(path)) {
                    exchange.getResponseHeaders().set("Location", "/cdn/" + commit.sha() + "/" + path);
                    exchange.sendResponseHeaders(302, -1);
                    return;
                }
                file(exchange, commit, path);
            } else if (parts.size() >= 3 && parts.get(0).equals("cdn")) {
                file(exchange, commits.get(parts.get(1)), String.join("/", parts.subList(2, parts.size())));
            } else {
                text(exchange, 404, "{\"error\":\"not found\"}");
            }
        } catch (IOException e) {
            // The client went away or the body was cut on purpose.
        }
    }

    private void refs(HttpExchange exchange) throws IOException {
        ObjectNode json = JSON.createObjectNode();
        ArrayNode list = json.putArray("branches");
        for (Branch b : branches.values()) {
            list.addObject().put("name", b.name()).put("ref", b.ref()).put("targetCommit", b.commit().sha());
        }
        json.putArray("tags");
        json.putArray("converts");
        text(exchange, 200, JSON.writeValueAsString(json));
    }

    private void tree(HttpExchange exchange, String revision) throws IOException {
        Commit commit = commit(revision);
        if (commit == null) {
            text(exchange, 404, "{\"error\":\"Revision Not Found\"}");
            return;
        }
        String query = exchange.getRequestURI().getRawQuery();
        int from = query != null && query.startsWith("cursor=") ? Integer.parseInt(query.substring(7)) : 0;
        List<Map.Entry<String, Entry>> all = new ArrayList<>(commit.files().entrySet());
        int to = Math.min(all.size(), from + treePageSize);
        ArrayNode page = JSON.createArrayNode();
        for (Map.Entry<String, Entry> e : all.subList(from, to)) {
            ObjectNode f = page.addObject().put("type", "file").put("oid", e.getValue().blobSha1())
                    .put("size", e.getValue().size()).put("path", e.getKey());
            if (e.getValue().sha256() != null) {
                f.putObject("lfs").put("oid", e.getValue().sha256()).put("size", e.getValue().size()).put("pointerSize", 134);
            }
        }
        if (from == 0) {
            page.addObject().put("type", "directory").put("oid", "0".repeat(40)).put("size", 0).put("path", "runs");
        }
        if (to < all.size()) {
            exchange.getResponseHeaders().set("Link", "<" + exchange.getRequestURI().getRawPath() + "?cursor=" + to + ">; rel=\"next\"");
        }
        text(exchange, 200, JSON.writeValueAsString(page));
    }

    private void file(HttpExchange exchange, Commit commit, String path) throws IOException {
        Entry entry = commit == null ? null : commit.files().get(path);
        if (entry == null) {
            text(exchange, 404, "{\"error\":\"Entry not found\"}");
            return;
        }
        byte[] bytes = Files.readAllBytes(entry.file());
        String range = exchange.getRequestHeaders().getFirst("Range");
        int start = 0;
        int status = 200;
        if (range != null && !ignoreRange && range.matches("bytes=\\d+-")) {
            start = Integer.parseInt(range.substring(6, range.length() - 1));
            if (start >= bytes.length) {
                exchange.getResponseHeaders().set("Content-Range", "bytes */" + bytes.length);
                exchange.sendResponseHeaders(416, -1);
                return;
            }
            status = 206;
            exchange.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (bytes.length - 1) + "/" + bytes.length);
        }
        String name = Path.of(path).getFileName().toString();
        Long cut = cutShort.remove(name);
        Long stallAt = stall.remove(name);
        exchange.getResponseHeaders().set("Accept-Ranges", "bytes");
        exchange.sendResponseHeaders(status, bytes.length - start);
        OutputStream out = exchange.getResponseBody();
        long limit = cut != null ? cut : stallAt != null ? stallAt : bytes.length - start;
        out.write(bytes, start, (int) Math.min(limit, bytes.length - start));
        out.flush();
        if (stallAt != null) {
            try {
                closing.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // Closing short of the announced length makes the server drop the connection: a body cut short.
    }

    private Commit commit(String revision) {
        Branch branch = branches.get(revision);
        return branch != null ? branch.commit() : commits.get(revision);
    }

    private static void text(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static String decode(String segment) {
        return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String gitBlobSha(byte[] bytes) {
        byte[] header = ("blob " + bytes.length + "\0").getBytes(StandardCharsets.UTF_8);
        byte[] all = Arrays.copyOf(header, header.length + bytes.length);
        System.arraycopy(bytes, 0, all, header.length, bytes.length);
        return sha1Hex(all);
    }

    private static String sha1Hex(byte[] bytes) {
        return digest("SHA-1", bytes);
    }

    static String sha256Hex(byte[] bytes) {
        return digest("SHA-256", bytes);
    }

    private static String digest(String algorithm, byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
