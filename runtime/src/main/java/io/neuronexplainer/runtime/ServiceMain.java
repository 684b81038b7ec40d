package io.neuronexplainer.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;
import org.apache.kafka.common.KafkaException;

/**
 * Runs a command body and turns the failures users cause or meet (bad input, unreachable
 * broker or registry) into one line on stderr and exit code 1, never a bare stack trace.
 */
public final class ServiceMain {
    private ServiceMain() {}

    public static int run(Callable<Integer> body) {
        try {
            return body.call();
        } catch (IllegalArgumentException | KafkaClients.UnreachableException
                | IOException | UncheckedIOException | KafkaException e) {
            System.err.println("error: " + oneLine(e));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.err.println("error: interrupted");
            return 130;
        } catch (Exception e) {
            // Unexpected: a bug. Still one line first, then the trace for the report.
            System.err.println("error: " + oneLine(e));
            e.printStackTrace();
            return 2;
        }
    }

    static String oneLine(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) {
            message = e.getClass().getSimpleName();
        }
        return message.replaceAll("\\s+", " ").trim();
    }
}
