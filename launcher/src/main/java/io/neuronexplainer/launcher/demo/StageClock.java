package io.neuronexplainer.launcher.demo;

import java.util.LinkedHashMap;
import java.util.Map;

/** Wall time of each pipeline stage, from the demo's start to the stage's last output; stages report from their own threads. */
final class StageClock {
    private final long start = System.nanoTime();
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    synchronized void done(String stage) {
        seconds.putIfAbsent(stage, (System.nanoTime() - start) / 1e9);
    }

    synchronized boolean isDone(String stage) {
        return seconds.containsKey(stage);
    }

    double elapsed() {
        return (System.nanoTime() - start) / 1e9;
    }

    synchronized Map<String, Double> stages() {
        return new LinkedHashMap<>(seconds);
    }
}
