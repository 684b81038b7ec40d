package io.neuronexplainer.launcher;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code neuron-explain} as its own JVM process, as a user would, on the test classpath. */
final class CliProcess {
    private CliProcess() {}

    static Process start(Path stderr, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"),
                "-Dneuron.registry.home=" + System.getProperty("neuron.registry.home"),
                "-Dneuron.project.root=" + System.getProperty("neuron.project.root"),
                "-Dai.djl.offline=true",
                NeuronExplain.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(stderr.toFile()).start();
    }

    /** Runs to completion (bounded) and returns exit code and stdout. */
    static Result run(Path stderr, long timeoutSeconds, String... args) throws Exception {
        Process process = start(stderr, args);
        String out;
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            out = reader.lines().reduce("", (a, b) -> a + b + "\n");
        }
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("neuron-explain " + String.join(" ", args) + " did not end within " + timeoutSeconds + " s");
        }
        return new Result(process.exitValue(), out, java.nio.file.Files.readString(stderr));
    }

    record Result(int exitCode, String stdout, String stderr) {}
}
