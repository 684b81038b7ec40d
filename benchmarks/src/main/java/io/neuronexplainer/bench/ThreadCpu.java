package io.neuronexplainer.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where a benchmark's CPU went: each thread's CPU time between two snapshots, summed by thread-name
 * groups (the broker, the Kafka clients, the workers, the fake LLM server, libtorch, JIT and GC...),
 * beside the whole process's. Read from Linux's /proc/self/task, which, unlike the JVM's thread
 * bean, also shows the JIT, the GC and native threads such as libtorch's; names are the OS's (at
 * most 15 characters). Threads that ended in between count only in the process's total, shown as
 * "ended threads". Printed as one line, so the bottleneck shows without a profiler.
 */
public final class ThreadCpu {
    /** /proc's clock ticks per second (USER_HZ), 100 on Linux whatever the kernel's HZ. */
    private static final double TICKS_PER_SECOND = 100.0;
    private static final Path TASKS = Path.of("/proc/self/task");

    /** A named group of threads, matched by a regex on the OS thread name; the first match wins. */
    public record Group(String label, Pattern names) {
        public static Group of(String label, String regex) {
            return new Group(label, Pattern.compile(regex));
        }
    }

    /** The JIT's compiler threads. */
    public static final Group JIT = Group.of("jit", "^C[12] Compiler.*");

    /** Groups every benchmark shares; a benchmark puts its own before them. */
    public static final List<Group> COMMON = List.of(
            Group.of("kafka-clients", "^kafka-(producer|coordinator|admin-clie).*"),
            Group.of("streams", ".*-StreamThre.*|.*StateUpdat.*|^neuron-scorer.*"),
            JIT,
            Group.of("gc", "^GC Thread.*|^G1 .*|^VM Thread$"),
            Group.of("broker", "^(data-plane-kaf|kafka-|quorum|raft|TxnMarkerSend|ExpirationReap|group-coordin|executor-"
                    + "|LogDirFailure|transaction-|share-|controller-|broker-|metrics-|log-|scheduler|ReplicaFetch|feature-"
                    + "|client-metric|NodeToControl|persister|metadata-|AddPartitions|broker).*"));

    private final Map<String, Long> ticksByThread; // tid -> ticks
    private final Map<String, String> names;
    private final long processTicks;
    private final long wallNanos;

    private ThreadCpu(Map<String, Long> ticksByThread, Map<String, String> names, long processTicks, long wallNanos) {
        this.ticksByThread = ticksByThread;
        this.names = names;
        this.processTicks = processTicks;
        this.wallNanos = wallNanos;
    }

    /** Every live thread's CPU time now, and the process's; empty where /proc is not readable. */
    public static ThreadCpu snapshot() {
        Map<String, Long> ticks = new HashMap<>();
        Map<String, String> names = new HashMap<>();
        long process = -1;
        try (Stream<Path> tasks = Files.list(TASKS)) {
            for (Path task : tasks.toList()) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    names.put(task.getFileName().toString(), stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
                    ticks.put(task.getFileName().toString(), cpuTicks(stat));
                } catch (IOException | RuntimeException ended) {
                    // the thread ended while being read: its time shows in the process's total
                }
            }
            process = cpuTicks(Files.readString(Path.of("/proc/self/stat")));
        } catch (IOException | RuntimeException e) {
            ticks.clear();
        }
        return new ThreadCpu(ticks, names, process, System.nanoTime());
    }

    /** utime + stime, the 14th and 15th fields of a stat line (counted after the parenthesised name). */
    private static long cpuTicks(String stat) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    /**
     * One line: the process's CPU seconds since {@code before} and the cores it kept busy (CPU over
     * wall time), then each group's seconds and share, largest first; "other" is threads in no group.
     */
    public String since(ThreadCpu before, List<Group> own) {
        if (processTicks < 0 || before.processTicks < 0) {
            return "cpu breakdown not available (no /proc/self/task)";
        }
        List<Group> groups = new ArrayList<>(own);
        groups.addAll(COMMON);
        Map<String, Long> byGroup = new LinkedHashMap<>();
        long threadsTotal = 0;
        for (var e : ticksByThread.entrySet()) {
            long spent = e.getValue() - before.ticksByThread.getOrDefault(e.getKey(), 0L);
            threadsTotal += spent;
            byGroup.merge(label(names.get(e.getKey()), groups), spent, Long::sum);
        }
        long total = processTicks - before.processTicks;
        byGroup.merge("ended threads", Math.max(0, total - threadsTotal), Long::sum);
        StringBuilder line = new StringBuilder(String.format("cpu_s=%.1f cores=%.2f:", total / TICKS_PER_SECOND,
                total / TICKS_PER_SECOND / Math.max(1e-9, (wallNanos - before.wallNanos) / 1e9)));
        byGroup.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .filter(e -> e.getValue() > 0)
                .forEach(e -> line.append(String.format(" %s=%.1f (%.0f%%)", e.getKey(), e.getValue() / TICKS_PER_SECOND,
                        100.0 * e.getValue() / Math.max(1, total))));
        return line.toString();
    }

    /** The share of the process's CPU since {@code before} that threads of {@code group} took (NaN where /proc is not readable). */
    public double shareSince(ThreadCpu before, Group group) {
        long total = processTicks - before.processTicks;
        if (processTicks < 0 || before.processTicks < 0 || total <= 0) {
            return Double.NaN;
        }
        long spent = 0;
        for (var e : ticksByThread.entrySet()) {
            if (group.names().matcher(names.get(e.getKey())).matches()) {
                spent += e.getValue() - before.ticksByThread.getOrDefault(e.getKey(), 0L);
            }
        }
        return (double) spent / total;
    }

    /** The process's CPU time since {@code before}, in nanoseconds (-1 where /proc is not readable). */
    public long processCpuNanosSince(ThreadCpu before) {
        if (processTicks < 0 || before.processTicks < 0) {
            return -1;
        }
        return Math.round((processTicks - before.processTicks) / TICKS_PER_SECOND * 1e9);
    }

    private static String label(String name, List<Group> groups) {
        for (Group g : groups) {
            if (g.names().matcher(name).matches()) {
                return g.label();
            }
        }
        return "other";
    }
}
