package io.neuronexplainer.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code neuron-explain} as its own JVM process, as a user would, on the test classpath. */
final class CliProcess {
    private CliProcess() {}

    static Process start(Path stderr, String... args) throws IOException {
        return builder(stderr, args).start();
    }

    private static ProcessBuilder builder(Path stderr, String... args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // Serial GC: no GC threads competing for the 2 cores the tests' processes share.
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "-Dneuron.registry.home=" + System.getProperty("neuron.registry.home"),
                "-Dneuron.project.root=" + System.getProperty("neuron.project.root"),
                "-Dai.djl.offline=true",
                NeuronExplain.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(stderr.toFile());
    }

    /** Runs to completion (bounded) and returns exit code, stdout and stderr. */
    static Result run(Path stderr, long timeoutSeconds, String... args) throws Exception {
        // stdout goes to a file beside stderr so that a hung process cannot block the reader past the timeout.
        Path stdout = stderr.resolveSibling(stderr.getFileName() + ".out");
        Process process = builder(stderr, args).redirectOutput(stdout.toFile()).start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("neuron-explain " + String.join(" ", args) + " did not end within " + timeoutSeconds
                    + " s; it said: " + lastLines(Files.readString(stderr), 20));
        }
        return new Result(process.exitValue(), Files.readString(stdout), Files.readString(stderr));
    }

    /** The last {@code n} lines of a process's output, for a failure message. */
    static String lastLines(String text, int n) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    }

    record Result(int exitCode, String stdout, String stderr) {}
}
