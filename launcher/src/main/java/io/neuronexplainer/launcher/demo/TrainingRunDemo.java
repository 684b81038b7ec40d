package io.neuronexplainer.launcher.demo;

import io.micrometer.core.instrument.MeterRegistry;
import io.neuronexplainer.producer.CheckpointFollower;
import io.neuronexplainer.producer.CheckpointRunner;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.scorer.LayerAggregate;
import io.neuronexplainer.scorer.Scorer;
import io.neuronexplainer.watcher.BacklogPolicy;
import io.neuronexplainer.watcher.CheckpointStep;
import io.neuronexplainer.watcher.CheckpointWatcher;
import io.neuronexplainer.watcher.folder.FolderSource;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code demo --follow}: a training run played back. The demo's checkpoints are written one after
 * another into a watched folder; the watcher releases each when complete, the producer service
 * runs it, and the workers and scorer explain and score it, with nobody typing a command. Records
 * when each checkpoint's files were complete, released, first scored and fully scored.
 */
final class TrainingRunDemo implements AutoCloseable {
    /** Short, so the demo does not wait long; a real run keeps the 30 s default. */
    static final Duration SETTLE = Duration.ofSeconds(2);

    /** When each step of one checkpoint's way happened, in seconds from the demo's start. */
    static final class Timeline {
        double written = Double.NaN;
        double released = Double.NaN;
        double firstScore = Double.NaN;
        double allScored = Double.NaN;
    }

    private final Path runFolder;
    private final String model;
    private final CheckpointWatcher watcher;
    private final CheckpointFollower follower;
    private final Thread watcherThread;
    private final Thread followerThread;
    private final Map<String, Timeline> timelines = new LinkedHashMap<>();

    TrainingRunDemo(KafkaClients clients, Path runFolder, Path tokenizer, CheckpointRunner runner, MeterRegistry meters)
            throws IOException {
        this.runFolder = runFolder;
        this.model = runFolder.getFileName().toString();
        Files.createDirectories(runFolder);
        Files.copy(tokenizer, runFolder.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        FolderSource source = new FolderSource(runFolder, Pattern.compile(CheckpointStep.DEFAULT_PATTERN), SETTLE, null,
                null, Clock.systemUTC());
        this.watcher = new CheckpointWatcher(clients, source,
                new CheckpointWatcher.Settings(model, Duration.ofMillis(500), BacklogPolicy.ALL_OLDEST_FIRST), meters);
        this.follower = new CheckpointFollower(clients, runner, CheckpointFollower.GROUP, null, true);
        this.watcherThread = daemon("checkpoint-watcher", watcher::run);
        this.followerThread = daemon("producer-follow", () -> {
            try {
                runner.corpusFingerprint(); // read while the first checkpoint settles, not after its release
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            follower.run();
        });
    }

    String model() {
        return model;
    }

    /** Writes each checkpoint into the watched folder as a training run would, the next once the last was released. */
    void playBack(List<Path> checkpoints, StageClock clock, PrintStream out, long timeoutNanos) throws IOException,
            InterruptedException {
        for (Path checkpoint : checkpoints) {
            String name = checkpoint.getFileName().toString();
            Path target = runFolder.resolve(name);
            Files.createDirectories(target);
            try (Stream<Path> files = Files.list(checkpoint)) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    Files.copy(f, target.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Timeline t = timelines.computeIfAbsent(name, n -> new Timeline());
            t.written = clock.elapsed();
            out.printf("%6.1f s  training run wrote %s%n", t.written, name);
            long deadline = System.nanoTime() + timeoutNanos;
            while (!watcher.released().contains(name)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the watcher did not release " + name + " in time: "
                            + (watcher.lastError() == null ? "no error seen" : watcher.lastError()));
                }
                Thread.sleep(50);
            }
            t.released = clock.elapsed();
            out.printf("%6.1f s  watcher released %s%n", t.released, name);
        }
    }

    /**
     * Waits until every checkpoint has {@code perCheckpoint} finished neurons (scored, or
     * dead-lettered: they will get no score), noting first score and all-finished times.
     */
    void awaitScores(Scorer scorer, FinishedNeurons finished, long perCheckpoint, StageClock clock, long timeoutNanos) {
        long deadline = System.nanoTime() + timeoutNanos;
        while (true) {
            finished.poll(Duration.ofMillis(100));
            Map<String, Long> scoredOnly = new LinkedHashMap<>();
            for (LayerAggregate layer : scorer.stores().layers()) {
                if (layer.model().equals(model)) {
                    scoredOnly.merge(layer.checkpoint(), layer.count(), Long::sum);
                }
            }
            Map<String, Long> counts = finished.perCheckpoint(model);
            boolean all = true;
            for (Map.Entry<String, Timeline> e : timelines.entrySet()) {
                long done = counts.getOrDefault(e.getKey(), 0L);
                Timeline t = e.getValue();
                if (scoredOnly.getOrDefault(e.getKey(), 0L) > 0 && Double.isNaN(t.firstScore)) {
                    t.firstScore = clock.elapsed();
                }
                if (done >= perCheckpoint && Double.isNaN(t.allScored)) {
                    t.allScored = clock.elapsed();
                }
                all &= !Double.isNaN(t.allScored);
            }
            if (all) {
                return;
            }
            if (scorer.failure() != null) {
                throw new IllegalStateException("the scorer failed: " + scorer.failure().getMessage());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("scoring did not finish in time: scored or dead-lettered per checkpoint " + counts
                        + " of " + perCheckpoint + " each; producer runs completed " + follower.completed()
                        + ", failed " + follower.failed());
            }
        }
    }

    Map<String, Timeline> timelines() {
        return timelines;
    }

    private static Thread daemon(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    @Override
    public void close() throws InterruptedException {
        watcher.stop();
        follower.stop();
        watcherThread.join(10_000);
        followerThread.join(30_000);
        watcher.close();
        follower.close();
    }
}
