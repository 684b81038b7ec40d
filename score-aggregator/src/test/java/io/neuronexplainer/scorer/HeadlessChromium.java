package io.neuronexplainer.scorer;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Debian's chromium run headless as a subprocess, each time with a fresh profile directory. */
public final class HeadlessChromium {
    private final String binary;

    private HeadlessChromium(String binary) {
        this.binary = binary;
    }

    /** The chromium on PATH; skips the test when there is none. */
    public static HeadlessChromium find() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, "chromium");
            if (Files.isExecutable(p)) {
                return new HeadlessChromium(p.toString());
            }
        }
        Assumptions.abort("chromium is not installed (apt-get install chromium)");
        return null;
    }

    /** The DOM after the page's scripts ran (5 s of virtual time). */
    public String dumpDom(String url) throws IOException, InterruptedException {
        return run(List.of("--dump-dom", url));
    }

    public void screenshot(String url, Path file) throws IOException, InterruptedException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        run(List.of("--screenshot=" + file.toAbsolutePath(), "--window-size=1280,900", url));
    }

    private String run(List<String> extra) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("chromium-profile");
        List<String> cmd = new ArrayList<>(List.of(binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--virtual-time-budget=5000"));
        cmd.addAll(extra);
        Path err = Files.createTempFile("chromium", ".log");
        Process process = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("chromium did not finish in 60 s");
        }
        if (process.exitValue() != 0) {
            throw new IOException("chromium exited " + process.exitValue() + ": " + Files.readString(err));
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
