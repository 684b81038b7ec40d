package io.neuronexplainer.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.neuronexplainer.runtime.DaemonThreads;
import io.neuronexplainer.runtime.HttpServers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local server speaking the OpenAI API format that answers every request after a fixed delay:
 * a one-line explanation for explainer requests, and for simulator requests whatever the
 * simulator method asks for, with made-up but plausible numbers (mostly 0, every seventh token 8):
 * <ul>
 *   <li>completions-echo ({@code /v1/completions}): the prompt echoed as word-sized tokens with
 *       {@code logprobs}, and at each {@code unknown} the top 5 candidates, digits among them;</li>
 *   <li>chat-logprobs: the neuron's blocks rewritten with a number per token, with
 *       {@code logprobs.content} and {@code top_logprobs} candidates at each number;</li>
 *   <li>chat-json: {@code {"activations": [[...], ...]}} with the lengths the prompt states.</li>
 * </ul>
 * It stands in for a paid LLM API so the benchmark measures the pipeline, not a model. Its CPU
 * counts in the benchmark's figure, so answers are written straight into a StringBuilder (an echoed
 * prompt's into its bytes) from a streaming read of the request, with no object tree either way.
 */
public final class DelayedOpenAiServer implements AutoCloseable {
    private static final JsonFactory JSON = new JsonFactory();
    /** How ChatJsonSimulator states the lists' lengths in its prompt. */
    private static final Pattern SIZES = Pattern.compile("The lists have these lengths: \\[([0-9, ]*)]");
    /** How ChatLogprobsSimulator's instruction starts. */
    private static final String FILL_IN = "Fill in the activations of neuron";
    private static final String UNKNOWN = "unknown";
    private static final String EXPLANATION = "the token \"cat\" and other words for animals.";
    /** Where SimulatorPrompt's part for the neuron simulated starts, after the few-shot examples. */
    private static final String TARGET_NEURON = "\n\nNeuron ";
    private static final int MAX_PREFIXES = 64;
    /** When the request a thread is handling was handed to the threads. */
    private static final ThreadLocal<Long> ARRIVED = new ThreadLocal<>();

    // The written number and the candidates behind it, for a token the neuron fires on and for
    // one it ignores. Fixed logprob texts, formatted once: they are the bulk of a simulator answer.
    private static final String HIGH = "8";
    private static final String LOW = "0";
    private static final double[] HIGH_P = {0.5, 0.25, 0.15, 0.06};
    private static final String[] HIGH_TOKENS = {"8", "10", "6", "0"};
    private static final double[] LOW_P = {0.85, 0.08, 0.03, 0.02};
    private static final String[] LOW_TOKENS = {"0", "1", "2", "3"};
    /** completions-echo: top_logprobs at an unknown, a map of 5 (the most OpenAI's completions allow). */
    private static final String ECHO_HIGH = echoCandidates(HIGH_TOKENS, HIGH_P);
    private static final String ECHO_LOW = echoCandidates(LOW_TOKENS, LOW_P);
    /** chat-logprobs: a number token with its top_logprobs list. */
    private static final String CHAT_HIGH = chatCandidates(HIGH_TOKENS, HIGH_P);
    private static final String CHAT_LOW = chatCandidates(LOW_TOKENS, LOW_P);
    /** Logprob of an ordinary (echoed or rewritten) token. */
    private static final String TOKEN_LOGPROB = "-0.02";

    private final HttpServer http;
    private final ExecutorService threads;
    private final ScheduledExecutorService timer;
    private final long delayMs;
    private final AtomicLong requests = new AtomicLong();
    private final boolean cachePrefixes;
    /** completions-echo: prompts' few-shot parts (up to the target neuron's header), formatted once. */
    private final List<EchoedPrefix> prefixes = new CopyOnWriteArrayList<>();

    private DelayedOpenAiServer(HttpServer http, ExecutorService threads, ScheduledExecutorService timer, long delayMs,
                                boolean cachePrefixes) {
        this.http = http;
        this.threads = threads;
        this.timer = timer;
        this.delayMs = delayMs;
        this.cachePrefixes = cachePrefixes;
    }

    /** Answers without listening, for a server of its own to call {@link #respond} (the delay is the caller's). */
    public static DelayedOpenAiServer unbound() {
        return new DelayedOpenAiServer(null, null, null, 0, true);
    }

    /** As {@link #unbound()}, formatting every prompt whole: the answers cached prefixes must equal. */
    static DelayedOpenAiServer unboundWithoutCache() {
        return new DelayedOpenAiServer(null, null, null, 0, false);
    }

    /**
     * Starts on a free loopback port. A request is read and answered on one of a few threads, and its
     * answer sent when the delay is up by a timer's: no thread sleeps through a request's delay. (With a
     * sleeping thread per request in flight, ~700 at 64 records in flight, the server's thread switches
     * cost the machine more than its answers.)
     */
    public static DelayedOpenAiServer start(long delayMs) throws IOException {
        HttpServer http = HttpServers.create(new InetSocketAddress("127.0.0.1", 0), 4096);
        int cores = Runtime.getRuntime().availableProcessors();
        ExecutorService threads = Executors.newFixedThreadPool(cores, DaemonThreads.named("fake-llm"));
        // The delay counts from when the server's dispatcher hands a request on, not from when a thread
        // takes it: a wave of requests queues for the threads, and that wait is part of the delay.
        Executor timed = exchange -> {
            long arrived = System.nanoTime();
            threads.execute(() -> {
                ARRIVED.set(arrived);
                exchange.run();
            });
        };
        ScheduledExecutorService timer = Executors.newScheduledThreadPool(cores, DaemonThreads.named("fake-llm-send"));
        DelayedOpenAiServer server = new DelayedOpenAiServer(http, threads, timer, delayMs, true);
        http.createContext("/v1/chat/completions", server::answer);
        http.createContext("/v1/completions", server::answer);
        http.setExecutor(timed);
        http.start();
        return server;
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/v1";
    }

    public long requests() {
        return requests.get();
    }

    private void answer(HttpExchange exchange) throws IOException {
        long start = ARRIVED.get();
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        byte[] bytes = answerBytes(exchange.getRequestURI().getPath(), body);
        long left = TimeUnit.MILLISECONDS.toNanos(delayMs) - (System.nanoTime() - start);
        if (left <= 0) {
            send(exchange, bytes);
            return;
        }
        // The JDK's server (not its specification) leaves an exchange open when its handler returns,
        // so another thread may answer it; send() closes it whatever happens.
        timer.schedule(() -> send(exchange, bytes), left, TimeUnit.NANOSECONDS);
    }

    private static void send(HttpExchange exchange, byte[] bytes) {
        try (exchange) {
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        } catch (IOException | RuntimeException e) {
            // The client gave up on the call (its timeout), or the server is closing: nothing to answer.
        }
    }

    /** The answer (JSON) to one request to {@code path} with {@code body}, counted, without the delay. */
    public String respond(String path, byte[] body) throws IOException {
        return new String(answerBytes(path, body), StandardCharsets.UTF_8);
    }

    /** As {@link #respond}, in UTF-8: what the server sends. */
    private byte[] answerBytes(String path, byte[] body) throws IOException {
        long id = requests.incrementAndGet();
        Request request = Request.read(body);
        if (path.endsWith("/chat/completions")) {
            String content = request.content == null ? "" : request.content;
            Matcher sizes = SIZES.matcher(content);
            String answer;
            if (content.contains(FILL_IN)) {
                answer = chatLogprobs(id, request.model, content, request.promptChars);
            } else if (sizes.find()) {
                answer = chat(id, request.model, request.promptChars, predictionsJson(sizes.group(1)), 0, null);
            } else {
                answer = chat(id, request.model, request.promptChars, EXPLANATION, 12, null);
            }
            return answer.getBytes(StandardCharsets.UTF_8);
        }
        return completionsEcho(id, request.model, request.prompt == null ? "" : request.prompt);
    }

    /** A chat.completion whose content is {@code content}, e.g. one no stage can use. */
    public static String chatCompletion(String model, String content) {
        return chat(0, model, 0, content, 1, null);
    }

    /** The fields the answers need, pulled from the request with a streaming parser. */
    private record Request(String model, String prompt, String content, int promptChars) {
        static Request read(byte[] body) throws IOException {
            String model = "bench";
            String prompt = null;
            String content = null;
            int chars = 0;
            try (JsonParser p = JSON.createParser(body)) {
                for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                    if (t != JsonToken.FIELD_NAME) {
                        continue;
                    }
                    String name = p.currentName();
                    if (p.nextToken() != JsonToken.VALUE_STRING) {
                        continue;
                    }
                    switch (name) {
                        case "model" -> model = p.getText();
                        case "prompt" -> {
                            prompt = p.getText();
                            chars += prompt.length();
                        }
                        // The last message's content: the neuron's own turn, where the windows to fill in are.
                        case "content" -> {
                            content = p.getText();
                            chars += content.length();
                        }
                        default -> { }
                    }
                }
            }
            return new Request(model, prompt, content, chars);
        }
    }

    /** Whether the {@code k}-th predicted token (counted over the neuron's windows) is one the neuron fires on. */
    private static boolean fires(int k) {
        return k % 7 == 0;
    }

    /** A chat.completion with one choice; {@code logprobs} is the choice's raw logprobs JSON, or null. */
    /** {@code promptChars}: the request's prompt or messages, in characters; usage reports a quarter as tokens. */
    private static String chat(long id, String model, int promptChars, String content, int completionTokens, String logprobs) {
        StringBuilder sb = new StringBuilder(content.length() + (logprobs == null ? 0 : logprobs.length()) + 400);
        sb.append("{\"id\":\"chatcmpl-bench-").append(id).append("\",\"object\":\"chat.completion\",\"created\":")
                .append(System.currentTimeMillis() / 1000).append(",\"model\":");
        string(sb, model);
        sb.append(",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
        string(sb, content);
        sb.append(",\"refusal\":null},\"logprobs\":").append(logprobs == null ? "null" : logprobs)
                .append(",\"finish_reason\":\"stop\"}],");
        usage(sb, promptChars / 4, completionTokens);
        return sb.append('}').toString();
    }

    private static void usage(StringBuilder sb, int promptTokens, int completionTokens) {
        sb.append("\"usage\":{\"prompt_tokens\":").append(promptTokens).append(",\"completion_tokens\":")
                .append(completionTokens).append(",\"total_tokens\":").append(promptTokens + completionTokens).append('}');
    }

    /** chat-json: one list per window, of the lengths the prompt states. */
    private static String predictionsJson(String sizes) {
        StringBuilder sb = new StringBuilder("{\"activations\": [");
        int k = 0;
        boolean firstList = true;
        for (String size : sizes.split(",")) {
            if (size.isBlank()) {
                continue;
            }
            sb.append(firstList ? "[" : ", [");
            firstList = false;
            int n = Integer.parseInt(size.trim());
            for (int i = 0; i < n; i++, k++) {
                sb.append(i == 0 ? "" : ", ").append(fires(k) ? HIGH : LOW);
            }
            sb.append(']');
        }
        return sb.append("]}").toString();
    }

    /**
     * chat-logprobs: the neuron's blocks (those after the prompt's last "Activations:" header,
     * whose lines end in a tab and "unknown") repeated with a number in place of each unknown,
     * split into tokens with logprobs, and the candidates 0-10 at each number.
     */
    private static String chatLogprobs(long id, String model, String prompt, int promptChars) {
        StringBuilder text = new StringBuilder(prompt.length() / 2);
        StringBuilder lp = new StringBuilder(prompt.length() * 4);
        lp.append("{\"content\":[");
        int tokens = 0;
        int k = 0;
        int at = Math.max(0, prompt.lastIndexOf("Activations:"));
        int block;
        while ((block = prompt.indexOf("<start>\n", at)) >= 0) {
            int end = prompt.indexOf("<end>", block);
            if (end < 0) {
                break;
            }
            if (tokens > 0) {
                tokens += token(text, lp, "\n", tokens);
            }
            tokens += token(text, lp, "<start>", tokens);
            tokens += token(text, lp, "\n", tokens);
            for (int line = block + "<start>\n".length(); line < end; ) {
                int eol = prompt.indexOf('\n', line);
                eol = eol < 0 || eol > end ? end : eol;
                int tab = prompt.lastIndexOf('\t', eol - 1);
                if (tab >= line && prompt.startsWith(UNKNOWN, tab + 1) && tab + 1 + UNKNOWN.length() == eol) {
                    tokens += token(text, lp, prompt.substring(line, tab), tokens);
                    tokens += token(text, lp, "\t", tokens);
                    boolean high = fires(k++);
                    text.append(high ? HIGH : LOW);
                    lp.append(',').append(high ? CHAT_HIGH : CHAT_LOW);
                    tokens++;
                    tokens += token(text, lp, "\n", tokens);
                }
                line = eol + 1;
            }
            tokens += token(text, lp, "<end>", tokens);
            at = end;
        }
        lp.append("],\"refusal\":null}");
        return chat(id, model, promptChars, text.toString(), tokens, lp.toString());
    }

    /** Appends a chat token whose only candidate is itself; returns 1 (the count of tokens added). */
    private static int token(StringBuilder text, StringBuilder lp, String token, int before) {
        text.append(token);
        if (before > 0) {
            lp.append(',');
        }
        lp.append("{\"token\":");
        string(lp, token);
        lp.append(",\"logprob\":").append(TOKEN_LOGPROB).append(",\"bytes\":null,\"top_logprobs\":[{\"token\":");
        string(lp, token);
        lp.append(",\"logprob\":").append(TOKEN_LOGPROB).append(",\"bytes\":null}]}");
        return 1;
    }

    /**
     * completions-echo: the legacy text_completion with {@code echo}, {@code max_tokens 0}: the
     * prompt as text, split into tokens (a word with its leading space, a tab, a newline), each
     * with its logprob, top_logprobs (null first, as OpenAI sends it) and text_offset. The prompt's
     * few-shot part, the same in every call, is formatted once (see {@link EchoedPrefix}).
     */
    private byte[] completionsEcho(long id, String model, String prompt) {
        int split = cachePrefixes ? prompt.lastIndexOf(TARGET_NEURON) + 1 : 0;
        EchoedPrefix prefix = EchoedPrefix.EMPTY;
        if (split > 0) {
            prefix = cachedPrefix(prompt, split);
            if (prefix == null) {
                prefix = storedPrefix(prompt, split);
            }
        }
        Echoed rest = prefix.rest(prompt);
        StringBuilder head = new StringBuilder(200).append("{\"id\":\"cmpl-bench-").append(id)
                .append("\",\"object\":\"text_completion\",\"created\":").append(System.currentTimeMillis() / 1000)
                .append(",\"model\":");
        string(head, model);
        head.append(",\"choices\":[{\"text\":\"");
        StringBuilder usage = new StringBuilder(100).append("]},\"finish_reason\":\"length\"}],");
        usage(usage, prefix.count + rest.count, 0);
        usage.append('}');
        // The answer written once, into its bytes: the prefix's parts are bytes already, and the
        // server's CPU counts in the benchmark's figure.
        return concat(utf8(head), prefix.text, utf8(rest.text), ECHO_TOKENS, prefix.tokens, utf8(rest.tokens),
                ECHO_LOGPROBS, prefix.logprobs, utf8(rest.logprobs), ECHO_TOPS, prefix.tops, utf8(rest.tops),
                ECHO_OFFSETS, prefix.offsets, utf8(rest.offsets), utf8(usage));
    }

    private static final byte[] ECHO_TOKENS = utf8("\",\"index\":0,\"logprobs\":{\"tokens\":[");
    private static final byte[] ECHO_LOGPROBS = utf8("],\"token_logprobs\":[");
    private static final byte[] ECHO_TOPS = utf8("],\"top_logprobs\":[");
    private static final byte[] ECHO_OFFSETS = utf8("],\"text_offset\":[");

    /** The stored few-shot part that is {@code prompt}'s first {@code length} characters, or null. */
    private EchoedPrefix cachedPrefix(String prompt, int length) {
        for (EchoedPrefix p : prefixes) {
            if (p.source.length() == length && prompt.startsWith(p.source)) {
                return p;
            }
        }
        return null;
    }

    /** The few-shot part formatted and stored (up to {@value #MAX_PREFIXES}), once however many threads miss it. */
    private synchronized EchoedPrefix storedPrefix(String prompt, int length) {
        EchoedPrefix prefix = cachedPrefix(prompt, length);
        if (prefix == null) {
            prefix = EchoedPrefix.of(prompt.substring(0, length));
            if (prefixes.size() < MAX_PREFIXES) {
                prefixes.add(prefix);
            }
        }
        return prefix;
    }

    private static byte[] utf8(CharSequence s) {
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /**
     * An echoed prompt's few-shot part, formatted once as the answer's parts (its text as a JSON
     * string body; its tokens, logprobs, top_logprobs and offsets as JSON list bodies), in UTF-8. A
     * prompt is tokenised line by line (a newline is a token of its own), so the parts of a prefix
     * ending in a newline are a prefix of the whole prompt's parts, and the neuron's own lines are
     * all that is formatted per call.
     */
    private record EchoedPrefix(String source, int count, int unknowns, byte[] text, byte[] tokens, byte[] logprobs,
                                byte[] tops, byte[] offsets) {
        static final EchoedPrefix EMPTY = new EchoedPrefix("", 0, 0, new byte[0], new byte[0], new byte[0], new byte[0],
                new byte[0]);

        static EchoedPrefix of(String prefix) {
            Echoed all = EMPTY.rest(prefix);
            return new EchoedPrefix(prefix, all.count, all.unknowns, utf8(all.text), utf8(all.tokens), utf8(all.logprobs),
                    utf8(all.tops), utf8(all.offsets));
        }

        /** The parts of what follows this prefix in {@code prompt}, which starts with it. */
        Echoed rest(String prompt) {
            int n = prompt.length();
            int start = source.length();
            int more = n - start;
            Echoed e = new Echoed(more);
            JsonStringEncoder.getInstance().quoteAsString(prompt.substring(start), e.text);
            int count = this.count;
            int k = this.unknowns;
            for (int i = start; i < n; ) {
                char c = prompt.charAt(i);
                int end = i + 1;
                if (c != '\t' && c != '\n') {
                    end = c == ' ' ? i + 1 : i;
                    while (end < n && " \t\n".indexOf(prompt.charAt(end)) < 0) {
                        end++;
                    }
                    end = Math.max(end, i + 1);
                }
                String token = prompt.substring(i, end);
                if (count > 0) {
                    e.tokens.append(',');
                    e.logprobs.append(',');
                    e.tops.append(',');
                    e.offsets.append(',');
                }
                string(e.tokens, token);
                e.offsets.append(i);
                if (count == 0) {
                    e.logprobs.append("null");
                    e.tops.append("null");
                } else if (i > 0 && prompt.charAt(i - 1) == '\t' && token.equals(UNKNOWN)) {
                    e.logprobs.append("-1.6");
                    e.tops.append(fires(k++) ? ECHO_HIGH : ECHO_LOW);
                } else {
                    e.logprobs.append(TOKEN_LOGPROB);
                    e.tops.append('{');
                    string(e.tops, token);
                    e.tops.append(':').append(TOKEN_LOGPROB).append('}');
                }
                count++;
                e.count++;
                i = end;
            }
            e.unknowns = k;
            return e;
        }
    }

    /** The answer's parts for the text after a prefix: each continues the prefix's (a comma first when it had any). */
    private static final class Echoed {
        final StringBuilder text;
        final StringBuilder tokens;
        final StringBuilder logprobs;
        final StringBuilder tops;
        final StringBuilder offsets;
        int count;
        int unknowns;

        Echoed(int chars) {
            text = new StringBuilder(chars + 16);
            tokens = new StringBuilder(2 * chars);
            logprobs = new StringBuilder(chars);
            tops = new StringBuilder(4 * chars);
            offsets = new StringBuilder(chars);
        }
    }

    /** A top_logprobs map for completions: the digits and "unknown" itself (the prompt's token). */
    private static String echoCandidates(String[] digits, double[] p) {
        StringBuilder sb = new StringBuilder("{");
        double rest = 1;
        for (int i = 0; i < digits.length; i++) {
            sb.append('"').append(digits[i]).append("\":").append(logprob(p[i])).append(',');
            rest -= p[i];
        }
        return sb.append("\"unknown\":").append(logprob(rest)).append('}').toString();
    }

    /** A chat number token (the most likely digit) with its top_logprobs list. */
    private static String chatCandidates(String[] digits, double[] p) {
        StringBuilder sb = new StringBuilder("{\"token\":\"").append(digits[0]).append("\",\"logprob\":")
                .append(logprob(p[0])).append(",\"bytes\":null,\"top_logprobs\":[");
        for (int i = 0; i < digits.length; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"token\":\"").append(digits[i]).append("\",\"logprob\":")
                    .append(logprob(p[i])).append(",\"bytes\":null}");
        }
        return sb.append("]}").toString();
    }

    private static String logprob(double p) {
        return String.format(Locale.ROOT, "%.4f", Math.log(p));
    }

    /** Appends {@code s} as a JSON string. */
    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        JsonStringEncoder.getInstance().quoteAsString(s, sb);
        sb.append('"');
    }

    @Override
    public void close() {
        if (http != null) {
            http.stop(0);
            threads.shutdownNow();
            timer.shutdownNow();
        }
    }
}
