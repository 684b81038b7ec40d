package io.neuronexplainer.scorer;

import picocli.CommandLine;

/** Runs {@code neuron-explain score} in a child JVM, so a test can kill it with SIGKILL. */
public final class ScorerChildMain {
    private ScorerChildMain() {}

    public static void main(String[] args) {
        System.exit(new CommandLine(new ScoreCommand()).execute(args));
    }
}
