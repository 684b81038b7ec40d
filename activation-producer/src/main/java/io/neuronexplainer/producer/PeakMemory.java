package io.neuronexplainer.producer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's peak resident memory (VmHWM in /proc/self/status): heap, native libtorch and all. */
public final class PeakMemory {
    private PeakMemory() {}

    /** Peak resident set in KiB, or -1 where /proc is not available. */
    public static long kib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
