package io.neuronexplainer.bench.chaos;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.scorer.Scorer;
import io.neuronexplainer.scorer.ScorerSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The scorer instances of a chaos run: Kafka Streams apps (exactly_once_v2) of one application id
 * in this JVM, each with a state directory of its own, sharing the tasks. One that stops on an
 * error is started again on its state, and counted.
 */
final class ChaosScorers implements AutoCloseable {
    static final String APPLICATION_ID = "neuron-scorer-chaos";

    private final KafkaClients clients;
    private final Path dir;
    private final PrintStream out;
    private final Scorer[] scorers;
    private int restarts;

    ChaosScorers(KafkaClients clients, int instances, Path dir, PrintStream out) {
        this.clients = clients;
        this.dir = dir;
        this.out = out;
        this.scorers = new Scorer[instances];
    }

    void start() throws IOException {
        for (int i = 0; i < scorers.length; i++) {
            scorers[i] = Scorer.start(clients, settings(i), meters());
        }
    }

    /** A registry per instance: two scorers in one registry would share (and fight over) their gauges. */
    private static MeterRegistry meters() {
        return new SimpleMeterRegistry();
    }

    private ScorerSettings settings(int i) {
        return ScorerSettings.defaults(APPLICATION_ID, dir.resolve("scorer-" + i)).withHttpPort(-1);
    }

    /** Starts again any instance that stopped; returns how many were. */
    int restartStopped() throws IOException {
        int n = 0;
        for (int i = 0; i < scorers.length; i++) {
            if (!scorers[i].isRunning()) {
                Throwable why = scorers[i].failure();
                out.printf("scorer %d stopped (%s); starting it again%n", i, why == null ? scorers[i].streams().state() : why);
                scorers[i].close();
                scorers[i] = Scorer.start(clients, settings(i), meters());
                n++;
            }
        }
        restarts += n;
        return n;
    }

    int restarts() {
        return restarts;
    }

    @Override
    public void close() {
        for (Scorer s : scorers) {
            if (s != null) {
                s.close();
            }
        }
    }
}
