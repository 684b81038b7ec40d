package io.neuronexplainer.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.neuronexplainer.explainer.Explainer;
import io.neuronexplainer.explainer.ExplainerBackendOptions;
import io.neuronexplainer.explainer.ExplainerWorker;
import io.neuronexplainer.runtime.CliCommand;
import io.neuronexplainer.runtime.EmbeddedRuntime;
import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.ScratchFolder;
import io.neuronexplainer.runtime.ServiceMain;
import io.neuronexplainer.runtime.worker.TransactionalWorker;
import io.neuronexplainer.runtime.worker.WorkerSettings;
import io.neuronexplainer.runtime.worker.WorkerSummary;
import io.neuronexplainer.schemas.ActivationsKey;
import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.Identities;
import io.neuronexplainer.schemas.NeuronActivations;
import io.neuronexplainer.schemas.NeuronKey;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.simulator.Simulator;
import io.neuronexplainer.simulator.SimulatorBackendOptions;
import io.neuronexplainer.simulator.SimulatorWorker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench pipeline}: the explainer and simulator workers, with their real OpenAI backends,
 * against a local server that answers after a fixed delay, on an embedded broker; measures
 * neurons per second against what the concurrency and latency allow. The input neurons are
 * generated and serialised before the timed window, so it times the workers, not the test data.
 */
@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = "Run explainer-worker and simulator-worker (openai backends) against a local "
                + "OpenAI-format server answering after --llm-latency-ms, on an embedded broker. The synthetic input "
                + "neurons are generated and Avro-serialised before the timed window, which measures the workers, "
                + "the broker and the fake LLM server only; then where the timed window's CPU went, by thread group; last line: neurons_per_s, calls_per_s and ratio, "
                + "each stage's LLM calls per second over what its calls in flight and the latency allow.")
public class BenchPipelineCommand implements Callable<Integer>, CliCommand {
    @Option(names = "--llm-latency-ms", defaultValue = "200", description = "Delay of every LLM answer (default: ${DEFAULT-VALUE}).")
    long latencyMs;

    @Option(names = "--concurrency", defaultValue = "64",
            description = "Records in flight per stage, i.e. each worker's --max-in-flight; a record's LLM calls go out "
                    + "together (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--neurons", defaultValue = "3000", description = "Synthetic neurons to push through (default: ${DEFAULT-VALUE}).")
    int neurons;

    @Option(names = "--warm-up", defaultValue = "60000",
            description = "At most this many neurons pushed through before the timed window, untimed, in rounds of "
                    + "2,000: the JIT compiles the workers', the broker's and the HTTP client's code meanwhile (a third "
                    + "of a window's CPU after 2,000 neurons, a fifth to a third after 10,000), so the window measures workers in "
                    + "the steady state a service runs in (default: ${DEFAULT-VALUE}).")
    int warmUp;

    @Option(names = "--warm-up-jit", defaultValue = "0.10", paramLabel = "SHARE",
            description = "The warm-up ends after the first round in which the JIT's compiler threads took less than "
                    + "this share of the CPU; 0 always pushes the whole --warm-up (default: ${DEFAULT-VALUE}).")
    double warmUpJit;

    @Option(names = "--partitions", defaultValue = "6", description = "Partitions of the topics (default: ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--simulator-method", defaultValue = "chat-json", paramLabel = "completions-echo|chat-logprobs|chat-json",
            description = "How the simulator asks the LLM, as simulate's --simulator-method; the local server answers "
                    + "each in its OpenAI format (default: ${DEFAULT-VALUE}).")
    String simulatorMethod;

    @Option(names = "--simulator-windows-per-call", paramLabel = "N",
            description = "As simulate's --simulator-windows-per-call (default: the method's: 1 for completions-echo, "
                    + "all of a neuron's windows for the chat methods).")
    Integer windowsPerCall;

    @Override
    public String parent() {
        return "bench";
    }

    @Override
    public Integer call() {
        // The OpenAI SDK chains its async stages on the common ForkJoinPool; on 2 cores its
        // parallelism is 1, and CompletableFuture then starts a new thread for every stage.
        // Set before the pool is first used (no effect if it already was, or if the user set it).
        if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null) {
            System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism",
                    Integer.toString(Math.max(4, Runtime.getRuntime().availableProcessors())));
        }
        return ServiceMain.run(() -> {
            if (latencyMs < 1 || concurrency < 1 || neurons < 1 || partitions < 1 || warmUp < 0 || !(warmUpJit >= 0 && warmUpJit < 1)) {
                throw new IllegalArgumentException("--llm-latency-ms, --concurrency, --neurons and --partitions must be positive, "
                        + "--warm-up >= 0 and --warm-up-jit in [0, 1)");
            }
            // Checked before the broker starts, so a typo costs no start-up time.
            SimulatorBackendOptions.checkSimulatorMethod(simulatorMethod);
            try (ScratchFolder dir = ScratchFolder.create("bench-pipeline");
                 EmbeddedRuntime runtime = EmbeddedRuntime.start(dir.path(), 0, 0);
                 DelayedOpenAiServer llm = DelayedOpenAiServer.start(latencyMs)) {
                return measure(new KafkaClients(runtime.bootstrapServers(), runtime.registryUrl()), llm);
            }
        });
    }

    /** Warm-up neurons per round, between two looks at the JIT's share. */
    private static final int WARM_UP_ROUND = 2000;

    /** This bench's own thread groups for the CPU breakdown, before {@link ThreadCpu#COMMON}. */
    private static final List<ThreadCpu.Group> CPU_GROUPS = List.of(
            ThreadCpu.Group.of("workers", "^(explainer|simulator)-worke$|^bench-worker$"),
            ThreadCpu.Group.of("fake-llm-server", "^fake-llm.*|^HTTP-Dispatcher$"),
            ThreadCpu.Group.of("llm-client", "^OkHttp.*|^ForkJoinPool.*|^openai.*|^HttpClient.*|^llm-answer-.*"));

    private int measure(KafkaClients clients, DelayedOpenAiServer llm) throws Exception {
        try (Admin admin = Admin.create(clients.admin())) {
            Topics.create(admin, partitions, (short) 1, KafkaClients.CONNECT_TIMEOUT_MS);
        }
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (Explainer explainer = ExplainerBackendOptions.openai(llm.baseUrl(), "bench-explainer").create(meters);
             Simulator simulator = SimulatorBackendOptions.openai(llm.baseUrl(), simulatorMethod, "bench-simulator")
                     .windowsPerCall(windowsPerCall).create(meters)) {
            WorkerSettings explainSettings = ExplainerWorker.settings(concurrency);
            WorkerSettings simulateSettings = SimulatorWorker.settings(concurrency);
            var explain = ExplainerWorker.create(clients, explainSettings, explainer, meters);
            var simulate = SimulatorWorker.create(clients, simulateSettings, simulator, meters);
            CompletableFuture<WorkerSummary> explaining = runInBackground(explain);
            CompletableFuture<WorkerSummary> simulating = runInBackground(simulate);
            awaitAssignment(explain, explaining);
            awaitAssignment(simulate, simulating);

            double seconds;
            long cpuNanos;
            String cpuBreakdown;
            double[] windowCalls;
            // Generating and Avro-encoding the synthetic neurons is test-data work, not pipeline work:
            // done here, before the timed window, which then only sends the bytes. Before the
            // warm-up, so these long-lived arrays are out of the young generation by the window.
            List<ProducerRecord<byte[], byte[]>> measured = serialise(clients, 0, neurons);
            int warmedUp;
            // Batched as the activation producer batches them: with the default 16 KB each ~13 KB
            // neuron was a batch of its own, a compressor set up per record on the bench's own thread.
            Map<String, Object> input = clients.producer(null);
            input.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
            try (var producer = new KafkaProducer<>(input, new ByteArraySerializer(), new ByteArraySerializer())) {
                warmedUp = warmUp(clients, producer, simulate, explaining, simulating);
                long start = System.nanoTime();
                ThreadCpu cpuBefore = ThreadCpu.snapshot();
                double[] callsBefore = {calls(meters, "explainer"), calls(meters, "simulator")};
                pushThrough(producer, measured, warmedUp + neurons, simulate, explaining, simulating);
                seconds = (System.nanoTime() - start) / 1e9;
                ThreadCpu cpuAfter = ThreadCpu.snapshot();
                cpuNanos = cpuAfter.processCpuNanosSince(cpuBefore);
                windowCalls = new double[] {calls(meters, "explainer") - callsBefore[0], calls(meters, "simulator") - callsBefore[1]};
                cpuBreakdown = cpuAfter.since(cpuBefore, CPU_GROUPS);
            }
            explain.stop();
            simulate.stop();
            System.out.println(explaining.get(60, TimeUnit.SECONDS).line());
            System.out.println(simulating.get(60, TimeUnit.SECONDS).line());
            for (String stage : new String[] {ExplainerWorker.STAGE, SimulatorWorker.STAGE}) {
                var timer = meters.find("worker.process.latency").tag("stage", stage).tag("outcome", "ok").timer();
                System.out.printf("%s: mean time from start to end of a record %.0f ms (LLM answers after %d ms)%n", stage,
                        timer == null ? 0 : timer.mean(TimeUnit.MILLISECONDS), latencyMs);
            }
            double slowestCallMs = latencyMs;
            for (var timer : meters.find("llm.latency").timers()) {
                System.out.printf("llm.latency %s: mean %.0f ms as the client sees it, max %.0f ms over %d calls%n",
                        timer.getId().getTags(), timer.mean(TimeUnit.MILLISECONDS), timer.max(TimeUnit.MILLISECONDS), timer.count());
                slowestCallMs = Math.max(slowestCallMs, timer.mean(TimeUnit.MILLISECONDS));
            }
            // What a neuron costs in LLM calls and prompt tokens (as the local server reports them), warm-up included.
            int pushed = warmedUp + neurons;
            for (String stage : new String[] {"explainer", "simulator"}) {
                double calls = calls(meters, stage);
                var prompt = meters.find("llm.tokens").tag("stage", stage).tag("kind", "prompt").counter();
                System.out.printf("%s_calls_per_neuron=%.2f %s_prompt_tokens_per_neuron=%.0f%n", stage, calls / pushed, stage,
                        prompt == null ? 0 : prompt.count() / pushed);
            }
            System.out.println("simulator_method_full=" + simulator.method());
            long deadLetters = explain.deadLetters() + simulate.deadLetters();
            System.out.printf("neurons=%d (after %d warm-up; input generated and serialised before the timed window) "
                    + "simulator_method=%s llm_latency_ms=%d concurrency=%d partitions=%d llm_requests=%d "
                    + "dead_letters=%d elapsed_s=%.2f cpu_ms_per_neuron=%.1f (whole JVM: workers, broker, fake LLM server) cores=%d "
                    + "common_pool_parallelism=%d%n",
                    neurons, warmedUp, simulatorMethod, latencyMs, concurrency, partitions, llm.requests(), deadLetters, seconds,
                    cpuNanos / 1e6 / neurons, Runtime.getRuntime().availableProcessors(),
                    java.util.concurrent.ForkJoinPool.getCommonPoolParallelism());
            // Counted in LLM calls: one explainer call a neuron, one simulator call per window group.
            // A worker holds --concurrency records in flight and a record's calls go out together, so a
            // stage making c calls a neuron holds at most concurrency x c calls, each lasting the latency:
            //   bound = concurrency x c / (llm_latency_ms / 1000)   [calls/s]
            // and calls_per_s / bound is the same whatever c (it equals neurons_per_s over
            // concurrency / latency). The window (first record sent -> last simulation committed)
            // includes filling and draining the pipeline, so ratio <= N / (N + concurrency).
            double rate = neurons / seconds;
            double ratio = rate / (concurrency / (latencyMs / 1000.0));
            StringBuilder stages = new StringBuilder();
            String[] names = {"explainer", "simulator"};
            for (int i = 0; i < 2; i++) {
                double callsPerSecond = windowCalls[i] / seconds;
                double callBound = concurrency * (windowCalls[i] / neurons) / (latencyMs / 1000.0);
                stages.append(String.format("%s_calls_per_s=%.1f %s_bound=%.1f ", names[i], callsPerSecond, names[i], callBound));
            }
            // How full the workers kept their slots, given the call latency the HTTP client really saw
            // (the fake server's delay plus HTTP and SDK overhead, which grows when the CPU is short).
            System.out.printf("slot_utilisation=%.3f (neurons_per_s / (concurrency / mean client-side call latency of the slower stage))%n",
                    rate / (concurrency / (slowestCallMs / 1000.0)));
            System.out.println("where the timed window's CPU went: " + cpuBreakdown);
            System.out.println(stages.toString().strip());
            System.out.printf("neurons_per_s=%.1f calls_per_s=%.1f ratio=%.3f%n", rate, (windowCalls[0] + windowCalls[1]) / seconds,
                    ratio);
            return deadLetters == 0 ? 0 : 1;
        }
    }

    private static double calls(SimpleMeterRegistry meters, String stage) {
        return meters.find("llm.calls").tag("stage", stage).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    /**
     * Pushes other neurons through, not measured, in rounds, until a round in which the JIT took less
     * than --warm-up-jit of the CPU or --warm-up neurons in all (JIT, HTTP connections, buffers).
     * Each round's input is generated before its CPU is counted. Says each round's JIT share as it
     * ends, and returns how many neurons went through.
     */
    private int warmUp(KafkaClients clients, KafkaProducer<byte[], byte[]> producer, TransactionalWorker<?, ?> simulate,
                       CompletableFuture<WorkerSummary> explaining, CompletableFuture<WorkerSummary> simulating)
            throws InterruptedException {
        long started = System.nanoTime();
        int pushed = 0;
        StringBuilder shares = new StringBuilder();
        while (pushed < warmUp) {
            int round = Math.min(WARM_UP_ROUND, warmUp - pushed);
            List<ProducerRecord<byte[], byte[]>> records = serialise(clients, neurons + pushed, round);
            ThreadCpu before = ThreadCpu.snapshot();
            pushThrough(producer, records, pushed + round, simulate, explaining, simulating);
            pushed += round;
            double jit = ThreadCpu.snapshot().shareSince(before, ThreadCpu.JIT);
            // Without /proc the share is unknown (NaN): the whole --warm-up then runs.
            shares.append(Double.isNaN(jit) ? " n/a" : String.format(" %.2f", jit));
            System.out.printf("warm-up: %d neurons in %.0f s, the JIT took %s of the last round's CPU%n", pushed,
                    (System.nanoTime() - started) / 1e9, Double.isNaN(jit) ? "an unknown share (no /proc)" : String.format("%.0f%%", 100 * jit));
            if (jit < warmUpJit) {
                break;
            }
        }
        System.out.printf("warm_up_neurons=%d warm_up_s=%.0f jit_share_by_round=%s%n", pushed,
                (System.nanoTime() - started) / 1e9, shares.toString().strip());
        return pushed;
    }

    /** Synthetic neurons [from, from + count) as records of Avro bytes, registering the schemas on the way. */
    private static List<ProducerRecord<byte[], byte[]>> serialise(KafkaClients clients, int from, int count) {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(count);
        try (var keys = new AvroSerializer<ActivationsKey>(clients.registry(), true);
             var values = new AvroSerializer<NeuronActivations>(clients.registry(), false)) {
            for (int i = from; i < from + count; i++) {
                NeuronActivations n = SyntheticNeurons.of(i);
                records.add(new ProducerRecord<>(Topics.NEURON_ACTIVATIONS,
                        keys.serialize(Topics.NEURON_ACTIVATIONS, Identities.activationsKey(n)),
                        values.serialize(Topics.NEURON_ACTIVATIONS, n)));
            }
        }
        return records;
    }

    /** Sends {@code records} and waits until the simulator has committed {@code target} records in all. */
    private void pushThrough(KafkaProducer<byte[], byte[]> producer, List<ProducerRecord<byte[], byte[]>> records, long target,
                             TransactionalWorker<?, ?> simulate, CompletableFuture<WorkerSummary> explaining,
                             CompletableFuture<WorkerSummary> simulating) throws InterruptedException {
        long start = System.nanoTime();
        int count = records.size();
        for (ProducerRecord<byte[], byte[]> record : records) {
            producer.send(record);
        }
        producer.flush();
        // Done when the simulator has committed a Simulation (or a dead letter) for every neuron.
        long deadline = start + Duration.ofSeconds(120 + 4L * count * latencyMs / 1000 / concurrency).toNanos();
        while (simulate.done() < target) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + simulate.done() + " of " + target + " neurons simulated in time");
            }
            if (explaining.isDone() || simulating.isDone()) {
                (explaining.isDone() ? explaining : simulating).join();
                throw new IllegalStateException("a worker stopped early");
            }
            Thread.sleep(5);
        }
    }

    private static CompletableFuture<WorkerSummary> runInBackground(TransactionalWorker<?, ?> worker) {
        CompletableFuture<WorkerSummary> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                result.complete(worker.run());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "bench-worker");
        t.setDaemon(true);
        t.start();
        return result;
    }

    private void awaitAssignment(TransactionalWorker<?, ?> worker, CompletableFuture<WorkerSummary> run) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (worker.assignment().size() < partitions) {
            if (run.isDone()) {
                run.join();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("a worker got no partitions within 60 s");
            }
            Thread.sleep(20);
        }
    }

}
