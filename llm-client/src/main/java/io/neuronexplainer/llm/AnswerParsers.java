package io.neuronexplainer.llm;

import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * The threads that parse long LLM answers (the logprob methods' 23-190 KB), one per core: the HTTP
 * client's threads only read an answer's bytes ({@link RawJson#bytes}) and hand them here.
 *
 * <p>Parsed on the HTTP threads, one per call in flight, a wave of answers shares the cores at once
 * and every call of the wave ends late (in {@code bench pipeline} at 64 records in flight the logprob
 * methods' calls took 260-335 ms against the server's 200). Queued here they end one after another,
 * and fewer threads compete for the caches. Alternating runs of {@code bench pipeline}, before and
 * after: chat-logprobs 0.740 and 0.762 against 0.827 and 0.780; completions-echo 0.500 against 0.542.
 * The bytes are read on the HTTP thread so that an answer still arriving never holds a parser; the
 * bytes waiting here are bounded by the calls in flight. Daemon threads shared by every caller in
 * the JVM, like the common pool.
 */
public final class AnswerParsers {
    public static final Executor POOL = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(), r -> {
        Thread t = new Thread(r, "llm-answer-parser");
        t.setDaemon(true);
        return t;
    });

    private AnswerParsers() {
    }
}
