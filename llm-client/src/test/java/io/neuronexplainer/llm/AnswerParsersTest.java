package io.neuronexplainer.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AnswerParsersTest {
    @Test
    void whatFollowsAParseNeverHoldsAParser() throws Exception {
        // More waiting follow-ups than there are parser threads: were they run on the parsers,
        // the last answer would never be parsed.
        CountDownLatch release = new CountDownLatch(1);
        // Each parse waits until its follow-up is attached, so the follow-up runs where the answer
        // completes, never on this thread.
        CountDownLatch attached = new CountDownLatch(1);
        List<CompletableFuture<String>> blocked = new ArrayList<>();
        for (int i = 0; i < 2 * Runtime.getRuntime().availableProcessors() + 2; i++) {
            blocked.add(AnswerParsers.parse(new byte[] {'a'}, b -> {
                try {
                    attached.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "x";
            }).thenApply(x -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return x;
            }));
        }
        attached.countDown();
        try {
            CompletableFuture<String> last = AnswerParsers.parse("answer".getBytes(StandardCharsets.UTF_8),
                    b -> Thread.currentThread().getName() + ":" + new String(b, StandardCharsets.UTF_8));
            String parsed = last.get(10, TimeUnit.SECONDS);
            assertEquals("llm-answer-parser:answer", parsed);
            blocked.forEach(f -> assertFalse(f.isDone()));
        } finally {
            release.countDown();
        }
        for (CompletableFuture<String> f : blocked) {
            assertEquals("x", f.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void aParseThatFailsFailsTheAnswerWithItsOwnException() {
        UnparseableOutputException thrown = new UnparseableOutputException("not JSON");
        ExecutionException e = assertThrows(ExecutionException.class, () -> AnswerParsers.parse(new byte[0], b -> {
            throw thrown;
        }).get(10, TimeUnit.SECONDS));
        assertSame(thrown, e.getCause());
    }
}
