package io.neuronexplainer.producer.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/producer-jit.json}, as a JVM started the way {@code bin/neuron-explain} starts the
 * producer reads it: C2 compiles the top-K's code and nothing else, which C1 still compiles.
 */
class ProducerJitDirectivesTest {
    private static final Path ROOT = Path.of(System.getProperty("neuron.project.root", "..")).toAbsolutePath().normalize();
    private static final Path DIRECTIVES = ROOT.resolve("bin").resolve("producer-jit.json");
    /** A -XX:+PrintCompilation line: time, compile id, flags, tier, then the method. */
    private static final Pattern COMPILED = Pattern.compile("^\\s*\\d+\\s+\\d+\\s+[%sbn! ]*?\\s*(\\d)\\s+(\\S+::\\S+)");

    @Test
    void c2CompilesTheTopKAndC1TheRest() throws Exception {
        Process jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UnlockDiagnosticVMOptions", "-XX:CompilerDirectivesFile=" + DIRECTIVES, "-XX:+PrintCompilation",
                "-cp", System.getProperty("java.class.path"), HotLoops.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(jvm.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, jvm.exitValue(), out);
        assertTrue(out.contains("2 compiler directives added"), "the JVM did not take " + DIRECTIVES + ":\n" + head(out));
        boolean topKByC2 = false;
        boolean spinByC1 = false;
        for (String line : out.split("\n")) {
            Matcher m = COMPILED.matcher(line);
            if (!m.find()) {
                continue;
            }
            int tier = Integer.parseInt(m.group(1));
            String method = m.group(2);
            if (method.startsWith(LayerTopK.class.getName() + "::") && tier == 4) {
                topKByC2 = true;
            }
            if (method.equals(HotLoops.class.getName() + "::spin")) {
                assertFalse(tier == 4, "C2 compiled a method the directives leave to C1: " + line);
                spinByC1 = true;
            }
        }
        assertTrue(topKByC2, "C2 never compiled the top-K:\n" + head(out));
        assertTrue(spinByC1, "C1 never compiled the other hot loop:\n" + head(out));
    }

    @Test
    void theLauncherStartsTheProducerWithThem() throws Exception {
        List<String> script = Files.readAllLines(ROOT.resolve("bin").resolve("neuron-explain"));
        int producer = -1;
        for (int i = 0; i < script.size(); i++) {
            if (script.get(i).contains("\"produce\"") && script.get(i).contains("\"producer\"")) {
                producer = i;
            }
        }
        assertTrue(producer >= 0, "no produce / bench producer branch in bin/neuron-explain");
        int end = producer + 1;
        while (end < script.size() && !script.get(end).startsWith("fi") && !script.get(end).startsWith("elif")) {
            end++;
        }
        String branch = String.join("\n", script.subList(producer, end));
        assertTrue(branch.contains("-XX:CompilerDirectivesFile=$ROOT/bin/producer-jit.json"), branch);
    }

    private static String head(String out) {
        return out.length() < 4000 ? out : out.substring(0, 4000);
    }

    /** Runs the top-K and another hot loop long enough for both to be compiled at their top tier. */
    public static final class HotLoops {
        public static void main(String[] args) {
            int neurons = 256;
            int tokens = 64;
            int windows = 8;
            LayerTopK top = new LayerTopK(neurons, 4, tokens);
            float[] activations = new float[windows * tokens * neurons];
            Random random = new Random(7);
            for (int i = 0; i < activations.length; i++) {
                activations[i] = (float) random.nextGaussian();
            }
            long sum = 0;
            long end = System.nanoTime() + 1_500_000_000L;
            for (long index = 0; System.nanoTime() < end; index += windows) {
                top.offer(activations, windows, index);
                sum += spin(activations.length);
            }
            System.out.println("done " + sum + " " + top.windowsSeen());
        }

        static long spin(int n) {
            long h = 1;
            for (int i = 0; i < n; i++) {
                h = h * 31 + (i ^ (h >>> 7));
            }
            return h;
        }
    }
}
