package io.neuronexplainer.runtime.test;

import io.neuronexplainer.runtime.RegistryProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** One real Apicurio Registry process per test JVM, started on first use and stopped at exit. */
public final class TestRegistry {
    private static RegistryProcess registry;

    private TestRegistry() {}

    public static synchronized String url() {
        if (registry == null) {
            try {
                registry = RegistryProcess.start(0, Path.of("target", "registry-" + ProcessHandle.current().pid() + ".log"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return registry.url();
    }
}
