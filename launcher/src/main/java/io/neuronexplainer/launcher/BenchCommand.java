package io.neuronexplainer.launcher;

import picocli.CommandLine.Command;

/** Parent of the benchmarks ({@code bench producer}, {@code bench pipeline}, {@code bench scorer}, {@code bench chaos}). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that print their figure as their last line, measured against this machine's own limits.")
public class BenchCommand {
}
