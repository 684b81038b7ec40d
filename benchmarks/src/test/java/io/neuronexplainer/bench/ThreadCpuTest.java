package io.neuronexplainer.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** A thread's CPU time lands in the group its name matches, and the total covers it. */
class ThreadCpuTest {
    @Test
    void aBusyThreadsTimeGoesToItsGroup() throws InterruptedException {
        ThreadCpu before = ThreadCpu.snapshot();
        Thread busy = new Thread(() -> {
            long end = System.nanoTime() + 600_000_000L;
            long x = 0;
            while (System.nanoTime() < end) {
                x += Long.numberOfTrailingZeros(x + 1);
            }
            if (x == 42) {
                System.out.println(x);
            }
        }, "spin-for-test");
        busy.start();
        Thread.sleep(300); // still running when the snapshot is taken: its time is read from its own task
        ThreadCpu during = ThreadCpu.snapshot();
        busy.join();
        String line = during.since(before, List.of(ThreadCpu.Group.of("spinner", "^spin-for-test$")));
        Matcher spinner = Pattern.compile(" spinner=([0-9.]+) ").matcher(line);
        Matcher total = Pattern.compile("^cpu_s=([0-9.]+) ").matcher(line);
        assertTrue(spinner.find() && total.find(), line);
        double spun = Double.parseDouble(spinner.group(1));
        assertTrue(spun >= 0.1, "the spinning thread's 0.3 s of CPU should show: " + line);
        assertTrue(Double.parseDouble(total.group(1)) >= spun, line);
    }
}
