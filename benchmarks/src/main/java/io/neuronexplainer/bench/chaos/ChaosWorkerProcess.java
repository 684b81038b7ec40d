package io.neuronexplainer.bench.chaos;

import io.neuronexplainer.explainer.ExplainCommand;
import io.neuronexplainer.simulator.SimulateCommand;
import java.util.Arrays;
import picocli.CommandLine;

/**
 * The main class of a worker JVM that {@code bench chaos} kills with SIGKILL and starts again:
 * {@code explain ARGS...} or {@code simulate ARGS...}, the services' own commands. A class of the
 * benchmarks module, so the same command line works from the launcher's jar and from this
 * module's tests (both put it on {@code java.class.path}).
 */
public final class ChaosWorkerProcess {
    private ChaosWorkerProcess() {}

    public static void main(String[] args) {
        if (args.length == 0 || !args[0].equals("explain") && !args[0].equals("simulate")) {
            System.err.println("error: usage: ChaosWorkerProcess explain|simulate [options]");
            System.exit(2);
        }
        // As bench pipeline: the OpenAI SDK chains its async stages on the common pool, whose
        // parallelism is 1 on 2 cores (CompletableFuture then starts a thread per stage).
        if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
            System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism", "4");
        }
        Object command = args[0].equals("explain") ? new ExplainCommand() : new SimulateCommand();
        System.exit(new CommandLine(command).execute(Arrays.copyOfRange(args, 1, args.length)));
    }
}
