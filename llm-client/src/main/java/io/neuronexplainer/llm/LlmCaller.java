package io.neuronexplainer.llm;

import com.openai.client.OpenAIClientAsync;
import com.openai.client.okhttp.OpenAIOkHttpClientAsync;
import com.openai.core.http.Headers;
import com.openai.errors.OpenAIInvalidDataException;
import com.openai.errors.OpenAIIoException;
import com.openai.errors.OpenAIServiceException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.neuronexplainer.runtime.DaemonThreads;
import io.neuronexplainer.runtime.worker.Fault;
import io.neuronexplainer.runtime.worker.FaultClass;
import io.neuronexplainer.runtime.worker.Faults;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls an OpenAI-compatible server through the official SDK's async client, with bounded
 * retries and metrics, never blocking the caller's thread.
 *
 * <p>The SDK's own retry loop is turned off ({@code maxRetries(0)}) and this class retries
 * instead: that makes every retry visible in the {@code llm.retries} counter and the final
 * attempt count exact in {@link LlmException} (the dead letter's {@code attempts}), and it lets
 * answers that arrive with HTTP 200 but cannot be parsed be retried by the same policy, which
 * the SDK cannot know about. Retried: what {@link Faults} calls transient (408, 409, 429, 5xx,
 * honouring Retry-After; timeouts and I/O errors), responses that are not valid JSON, and
 * unparseable model output. The final {@link LlmException} carries the last failure's
 * {@link Fault}, so the worker acts on the same classification: it tries a transient failure
 * again later, pauses on one that would fail every call (401, 403, a model not found), and
 * dead-letters only what is the record's own (unusable answers, a request refused as such).
 *
 * <p>Every attempt, retries included, first passes this worker's {@link LlmBudget} (calls and
 * tokens per minute), which holds it back until it fits and never drops it. Meters: {@code
 * llm.calls} (every attempt by outcome), {@code llm.latency} (a histogram, by outcome), {@code
 * llm.retries} (by the same outcome, as {@code reason}), {@code llm.tokens}, {@code
 * llm.calls.in.flight}, {@code llm.budget.calls.per.minute} and {@code llm.budget.tokens.per.minute}
 * (the caps) and {@code llm.budget.waits} (calls held back, by {@code limit}).
 */
public final class LlmCaller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LlmCaller.class);
    /** A server asking for longer than this is waited for this long at most. */
    private static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);
    /** The latency histogram's range: a fast local server's answer to a slow model at the longest timeout. */
    private static final Duration LATENCY_MIN = Duration.ofMillis(10);
    private static final Duration LATENCY_MAX = Duration.ofSeconds(120);

    /**
     * The SDK's OkHttp client sends at most 64 requests to one host at a time (it sets OkHttp's
     * per-host limit to the dispatcher's default of 64 and offers no way to change it); more
     * calls queue inside OkHttp, unseen. So a caller keeps one SDK client per 64 calls in flight,
     * opened as the load needs them, and sends each call through the least busy one.
     */
    static final int CALLS_PER_CLIENT = 64;
    /**
     * How long an idle connection is kept for the next call: less than the common LLM servers' own
     * keep-alive (vLLM's and uvicorn's 5 s). The SDK turns off OkHttp's silent retry on a connection
     * the server has closed, and OkHttp checks a pooled connection only after 10 s idle, so a call
     * sent on a connection the server closed meanwhile would fail and cost an attempt.
     */
    private static final Duration IDLE_CONNECTION_KEEP_ALIVE = Duration.ofSeconds(4);

    private final LlmSettings settings;
    private final List<SdkClient> clients = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService retryTimer;
    private final MeterRegistry meters;
    /**
     * In-flight counts per registry and stage, shared by every caller of that stage, because a
     * registry keeps the first gauge registered under a name and tags and ignores later ones.
     */
    private static final Map<MeterRegistry, Map<String, AtomicInteger>> IN_FLIGHT = new WeakHashMap<>();

    private final AtomicInteger inFlight;
    private final Counter promptTokens;
    private final Counter completionTokens;
    private final LlmBudget budget;
    private volatile boolean closed;

    public LlmCaller(LlmSettings settings, MeterRegistry meters) {
        this(settings, meters, LlmBudget.MINUTE);
    }

    /** With the budget counted over {@code budgetWindow} instead of a minute: for tests that must not take minutes. */
    LlmCaller(LlmSettings settings, MeterRegistry meters, Duration budgetWindow) {
        this.settings = settings;
        this.meters = meters;
        clients.add(new SdkClient(newClient(settings)));
        this.retryTimer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("llm-retry-" + settings.stage()));
        synchronized (IN_FLIGHT) {
            this.inFlight = IN_FLIGHT.computeIfAbsent(meters, m -> new ConcurrentHashMap<>())
                    .computeIfAbsent(settings.stage(), s -> new AtomicInteger());
        }
        Gauge.builder("llm.calls.in.flight", inFlight, AtomicInteger::get)
                .description("LLM requests sent and not yet answered")
                .tag("stage", settings.stage()).strongReference(true).register(meters);
        this.promptTokens = Counter.builder("llm.tokens").tag("stage", settings.stage()).tag("kind", "prompt")
                .description("Tokens the LLM server reported").register(meters);
        this.completionTokens = Counter.builder("llm.tokens").tag("stage", settings.stage()).tag("kind", "completion")
                .description("Tokens the LLM server reported").register(meters);
        // The caps as gauges, 0 for none, so a dashboard draws spend against budget.
        Gauge.builder("llm.budget.calls.per.minute", settings::maxCallsPerMinute)
                .description("This worker's cap on LLM calls started per minute (0: no cap)")
                .tag("stage", settings.stage()).strongReference(true).register(meters);
        Gauge.builder("llm.budget.tokens.per.minute", settings::maxTokensPerMinute)
                .description("This worker's cap on LLM tokens per minute (0: no cap)")
                .tag("stage", settings.stage()).strongReference(true).register(meters);
        Map<LlmBudget.Limit, Counter> waits = new java.util.EnumMap<>(LlmBudget.Limit.class);
        for (LlmBudget.Limit limit : LlmBudget.Limit.values()) {
            waits.put(limit, Counter.builder("llm.budget.waits").description("LLM calls held back by this worker's budget")
                    .tag("stage", settings.stage()).tag("limit", limit.tag()).register(meters));
        }
        this.budget = new LlmBudget(settings.maxCallsPerMinute(), settings.maxTokensPerMinute(), budgetWindow, retryTimer,
                limit -> waits.get(limit).increment());
    }

    private static OpenAIClientAsync newClient(LlmSettings settings) {
        return OpenAIOkHttpClientAsync.builder()
                .baseUrl(settings.baseUrl())
                .apiKey(settings.apiKey())
                .timeout(settings.timeout())
                .maxRetries(0)
                // OkHttp keeps 5 idle connections by default: a client with 64 calls in flight then
                // closed most connections each time a wave of answers came in and opened new ones for
                // the next (bench pipeline: ~270 new connections a second at ~2,500 calls a second).
                .maxIdleConnections(CALLS_PER_CLIENT)
                .keepAliveDuration(IDLE_CONNECTION_KEEP_ALIVE)
                .build();
    }

    /** One SDK client and the calls it has in flight. */
    private record SdkClient(OpenAIClientAsync sdk, AtomicInteger inFlight) {
        SdkClient(OpenAIClientAsync sdk) {
            this(sdk, new AtomicInteger());
        }
    }

    /** The least busy SDK client, a new one when all are full; its in-flight count is taken. */
    private synchronized SdkClient takeClient() {
        SdkClient best = clients.get(0);
        for (SdkClient c : clients) {
            if (c.inFlight().get() < best.inFlight().get()) {
                best = c;
            }
        }
        if (best.inFlight().get() >= CALLS_PER_CLIENT) {
            best = new SdkClient(newClient(settings));
            clients.add(best);
            log.info("{}: more than {} LLM calls in flight; opened SDK client {}", settings.stage(),
                    CALLS_PER_CLIENT * (clients.size() - 1), clients.size());
        }
        best.inFlight().incrementAndGet();
        return best;
    }

    /** SDK clients opened so far (one per {@value #CALLS_PER_CLIENT} calls in flight at the peak). */
    int sdkClients() {
        return clients.size();
    }

    public LlmSettings settings() {
        return settings;
    }

    /**
     * Sends the request made by {@code send} until {@code parse} accepts a response or the
     * attempts run out. {@code parse} throws (any RuntimeException) for unusable output.
     * The future fails with {@link LlmException} naming the last status or reason.
     */
    public <R, T> CompletableFuture<LlmAnswer<T>> call(Function<OpenAIClientAsync, CompletableFuture<R>> send,
                                                      Function<R, TokenUsage> usage, Function<R, T> parse) {
        CompletableFuture<LlmAnswer<T>> result = new CompletableFuture<>();
        attempt(1, TokenUsage.NONE, send, usage, parse, result);
        return result;
    }

    /** Sends attempt {@code attempt} once the budget allows it, on this thread if it allows it now. */
    private <R, T> void attempt(int attempt, TokenUsage spentBefore, Function<OpenAIClientAsync, CompletableFuture<R>> send,
                                Function<R, TokenUsage> usage, Function<R, T> parse,
                                CompletableFuture<LlmAnswer<T>> result) {
        budget.admit(() -> send(attempt, spentBefore, send, usage, parse, result),
                () -> result.completeExceptionally(new LlmException(settings.stage()
                        + " LLM caller closed while a call waited for the LLM budget", attempt - 1, null,
                        new Fault(FaultClass.TRANSIENT, "llm_caller_closed"))));
    }

    private <R, T> void send(int attempt, TokenUsage spentBefore, Function<OpenAIClientAsync, CompletableFuture<R>> send,
                             Function<R, TokenUsage> usage, Function<R, T> parse,
                             CompletableFuture<LlmAnswer<T>> result) {
        if (closed) {
            // Transient, as for a call the budget held: the record is the caller's to retry, not a bad one.
            result.completeExceptionally(new LlmException(settings.stage() + " LLM caller closed before a call was sent",
                    attempt - 1, null, new Fault(FaultClass.TRANSIENT, "llm_caller_closed")));
            return;
        }
        inFlight.incrementAndGet();
        Timer.Sample sample = Timer.start(meters);
        SdkClient client = takeClient();
        CompletableFuture<R> response;
        try {
            response = send.apply(client.sdk());
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        response.whenComplete((r, error) -> {
            client.inFlight().decrementAndGet();
            inFlight.decrementAndGet();
            Throwable failure = unwrap(error);
            TokenUsage spent = spentBefore;
            T value = null;
            if (failure == null) {
                TokenUsage u = safeUsage(usage, r);
                spent = spent.plus(u);
                promptTokens.increment(u.promptTokens());
                completionTokens.increment(u.completionTokens());
                budget.answered((long) u.promptTokens() + u.completionTokens());
                try {
                    value = parse.apply(r);
                } catch (RuntimeException e) {
                    failure = e instanceof UnparseableOutputException ? e
                            : new UnparseableOutputException(e.getClass().getSimpleName() + ": " + e.getMessage());
                }
            } else {
                budget.failed();
            }
            String outcome = failure == null ? "ok" : outcome(failure);
            sample.stop(Timer.builder("llm.latency").description("One LLM request, send to parsed answer")
                    .tag("stage", settings.stage()).tag("outcome", outcome)
                    .publishPercentileHistogram().minimumExpectedValue(LATENCY_MIN).maximumExpectedValue(LATENCY_MAX)
                    .register(meters));
            Counter.builder("llm.calls").description("LLM requests sent, retries included, by outcome")
                    .tag("stage", settings.stage()).tag("outcome", outcome).register(meters).increment();
            if (failure == null) {
                result.complete(new LlmAnswer<>(value, spent, attempt));
                return;
            }
            String why = describe(failure);
            if (!retryable(failure) || attempt >= settings.retry().maxAttempts()) {
                result.completeExceptionally(new LlmException(settings.stage() + " LLM call to " + settings.model()
                        + " failed after " + attempt + (attempt == 1 ? " attempt: " : " attempts: ") + why,
                        attempt, failure, fault(failure)));
                return;
            }
            Duration wait = retryAfter(failure).orElseGet(() -> settings.retry().backoff(attempt));
            Counter.builder("llm.retries").description("LLM requests retried, by reason")
                    .tag("stage", settings.stage()).tag("reason", outcome).register(meters).increment();
            log.warn("{} LLM attempt {}/{} failed ({}); retrying in {} ms", settings.stage(), attempt,
                    settings.retry().maxAttempts(), why, wait.toMillis());
            TokenUsage carried = spent;
            try {
                retryTimer.schedule(() -> attempt(attempt + 1, carried, send, usage, parse, result),
                        wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RuntimeException rejected) {
                result.completeExceptionally(new LlmException(settings.stage() + " LLM caller closed while retrying: "
                        + why, attempt, failure, fault(failure)));
            }
        });
    }

    private static <R> TokenUsage safeUsage(Function<R, TokenUsage> usage, R response) {
        try {
            TokenUsage u = usage.apply(response);
            return u == null ? TokenUsage.NONE : u;
        } catch (RuntimeException e) {
            return TokenUsage.NONE; // a server that reports no usage still answered
        }
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Transient failures, and answers that could not be used (the next may be usable): both are tried again here. */
    static boolean retryable(Throwable t) {
        return fault(t).is(FaultClass.TRANSIENT) || unusableAnswer(t);
    }

    /** What a failed call means, by {@link Faults}: the SDK's exceptions turned into the status and kinds it classifies. */
    static Fault fault(Throwable t) {
        if (t instanceof OpenAIServiceException s) {
            return Faults.ofLlmStatus(s.statusCode(), s.code().orElse(null));
        }
        if (unusableAnswer(t)) {
            return Faults.unusableLlmAnswer();
        }
        if (t instanceof OpenAIIoException || t instanceof TimeoutException || t instanceof java.io.IOException) {
            return new Fault(FaultClass.TRANSIENT, isTimeout(t) ? "llm_timeout" : "llm_io_error");
        }
        return Faults.classify(t);
    }

    private static boolean unusableAnswer(Throwable t) {
        return t instanceof UnparseableOutputException || t instanceof OpenAIInvalidDataException;
    }

    /**
     * What became of a failed attempt, as the {@code outcome} (and {@code reason}) tag: the HTTP
     * status ({@code 429}, {@code 500}, ...), {@code unparseable} (an answer that is not valid JSON
     * or not usable output), {@code timeout}, {@code io}, or {@code other}; a good answer is {@code ok}.
     * Statuses rather than kinds, so a dashboard counts 429s and error rates directly.
     */
    static String outcome(Throwable t) {
        if (t instanceof OpenAIServiceException s) {
            return Integer.toString(s.statusCode());
        }
        if (unusableAnswer(t)) {
            return "unparseable";
        }
        if (isTimeout(t)) {
            return "timeout";
        }
        if (t instanceof OpenAIIoException || t instanceof java.io.IOException) {
            return "io";
        }
        return "other";
    }

    /** The kind of a failure without an HTTP status, in words, for messages. */
    private static String kind(Throwable t) {
        if (t instanceof OpenAIInvalidDataException) {
            return "invalid response";
        }
        if (isTimeout(t)) {
            return "timeout";
        }
        if (t instanceof OpenAIIoException || t instanceof java.io.IOException) {
            return "io error";
        }
        return "other";
    }

    private static boolean isTimeout(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || c instanceof InterruptedIOException) {
                return true;
            }
        }
        return false;
    }

    /** One line: the HTTP status and server message, or the failure's kind and message. */
    static String describe(Throwable t) {
        String message;
        if (t instanceof OpenAIServiceException s) {
            String m = firstLine(s.getMessage());
            // The SDK's message already starts with the status ("500: boom").
            message = "HTTP " + (m.startsWith(s.statusCode() + "") ? m : s.statusCode() + ": " + m);
        } else if (t instanceof UnparseableOutputException) {
            message = "unparseable model output: " + firstLine(t.getMessage());
        } else {
            message = kind(t) + ": " + t.getClass().getSimpleName() + " " + firstLine(t.getMessage());
        }
        return message.length() > 300 ? message.substring(0, 300) + "..." : message;
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ").trim();
    }

    static Optional<Duration> retryAfter(Throwable t) {
        if (!(t instanceof OpenAIServiceException s)) {
            return Optional.empty();
        }
        Headers h = s.headers();
        return RetryAfter.parse(first(h.values("retry-after-ms")), first(h.values("retry-after")), Instant.now())
                .map(d -> d.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : d);
    }

    private static String first(List<String> values) {
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    @Override
    public void close() {
        closed = true;
        budget.close();
        retryTimer.shutdownNow();
        clients.forEach(c -> c.sdk().close());
    }
}
