package io.neuronexplainer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** A thread's CPU time lands in the group its name matches, and the total covers it. */
class ThreadCpuTest {
    @Test
    void aBusyThreadsTimeGoesToItsGroup() throws InterruptedException {
        ThreadCpu before = ThreadCpu.snapshot();
        CountDownLatch spent = new CountDownLatch(1);
        AtomicBoolean stop = new AtomicBoolean();
        Thread busy = new Thread(() -> {
            var threads = ManagementFactory.getThreadMXBean();
            long x = 0;
            while (!stop.get()) {
                x += Long.numberOfTrailingZeros(x + 1);
                // Its own CPU clock, not the wall's: a loaded machine only makes this take longer.
                if (spent.getCount() > 0 && threads.getCurrentThreadCpuTime() >= 300_000_000L) {
                    spent.countDown();
                }
            }
            if (x == 42) {
                System.out.println(x);
            }
        }, "spin-for-test");
        busy.start();
        assertTrue(spent.await(60, TimeUnit.SECONDS), "the spinning thread got no CPU in 60 s");
        ThreadCpu during = ThreadCpu.snapshot(); // taken while it runs: its time is read from its own task
        stop.set(true);
        busy.join();
        String line = during.since(before, List.of(ThreadCpu.Group.of("spinner", "^spin-for-test$")));
        Matcher spinner = Pattern.compile(" spinner=([0-9.]+) ").matcher(line);
        Matcher total = Pattern.compile("^cpu_s=([0-9.]+) ").matcher(line);
        assertTrue(spinner.find() && total.find(), line);
        double spun = Double.parseDouble(spinner.group(1));
        assertTrue(spun >= 0.25, "the spinning thread's 0.3 s of CPU should show: " + line);
        assertTrue(Double.parseDouble(total.group(1)) >= spun, line);
        double share = during.shareSince(before, ThreadCpu.Group.of("spinner", "^spin-for-test$"));
        Matcher percent = Pattern.compile(" spinner=[0-9.]+ \\(([0-9]+)%\\)").matcher(line);
        assertTrue(percent.find(), line);
        assertEquals(Double.parseDouble(percent.group(1)), 100 * share, 0.51, "the spinner's share as the line has it: " + line);
        assertEquals(0.0, during.shareSince(before, ThreadCpu.Group.of("none", "^no-such-thread$")));
    }
}
