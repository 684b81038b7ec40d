package io.neuronexplainer.launcher;

import picocli.CommandLine.Command;

/**
 * Parent of the benchmarks ({@code bench producer}, {@code bench pipeline}, {@code bench scorer}, {@code bench chaos}),
 * all of them contributed by the benchmarks module (its META-INF/services list, in that order), none by a service's jar.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that print their figure as their last line, measured against this machine's own limits.")
public class BenchCommand {
}
