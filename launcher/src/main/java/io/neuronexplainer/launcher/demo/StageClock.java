package io.neuronexplainer.launcher.demo;

import java.util.LinkedHashMap;
import java.util.Map;

/** Wall time of each pipeline stage, from the demo's start to the stage's last output. */
final class StageClock {
    private final long start = System.nanoTime();
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    void done(String stage) {
        seconds.putIfAbsent(stage, (System.nanoTime() - start) / 1e9);
    }

    boolean isDone(String stage) {
        return seconds.containsKey(stage);
    }

    double elapsed() {
        return (System.nanoTime() - start) / 1e9;
    }

    Map<String, Double> stages() {
        return seconds;
    }
}
