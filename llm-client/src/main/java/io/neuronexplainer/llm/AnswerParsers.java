package io.neuronexplainer.llm;

import io.neuronexplainer.runtime.DaemonThreads;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * The threads that parse long LLM answers (the logprob methods' 23-190 KB), one per core: the HTTP
 * client's threads only read an answer's bytes ({@link RawJson#stream}) and hand them here.
 *
 * <p>Parsed on the HTTP threads, one per call in flight, a wave of answers shares the cores at once
 * and every call of the wave ends late (in {@code bench pipeline} at 64 records in flight the logprob
 * methods' calls took 260-335 ms against the server's 200). Queued here they end one after another,
 * and fewer threads compete for the caches. Alternating runs of {@code bench pipeline}, before and
 * after: chat-logprobs 0.740 and 0.762 against 0.827 and 0.780; completions-echo 0.500 against 0.542.
 *
 * <p>The bytes are read on the HTTP thread so that an answer still arriving never holds a parser.
 * What follows the parse (the caller's checks, the record's output, its serialisation, which may
 * wait on the schema registry) runs on a thread of its own, as it did on the HTTP thread, never on a
 * parser: one slow record cannot stall every answer. Daemon threads shared by every caller in the JVM.
 */
public final class AnswerParsers {
    private static final Executor PARSERS = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(),
            DaemonThreads.named("llm-answer-parser"));
    private static final Executor AFTER = Executors.newCachedThreadPool(DaemonThreads.named("llm-answer-done"));

    private AnswerParsers() {
    }

    /** {@code parser} applied to {@code body} on a parser thread; the result completes on another thread. */
    public static <T> CompletableFuture<T> parse(byte[] body, Function<byte[], T> parser) {
        CompletableFuture<T> result = new CompletableFuture<>();
        PARSERS.execute(() -> {
            try {
                T value = parser.apply(body);
                AFTER.execute(() -> result.complete(value));
            } catch (Throwable e) {
                AFTER.execute(() -> result.completeExceptionally(e));
            }
        });
        return result;
    }
}
