package io.neuronexplainer.bench.scorer;

import java.time.Duration;
import org.apache.kafka.streams.KafkaStreams;

/**
 * When a Streams app's threads processed their first record: where the scorer bench and its copy
 * baseline start their clocks. RUNNING is not that moment: one stream thread may work while another
 * still joins the group (the copy had copied 38,144 of 50,000 neurons' records before its app
 * reported RUNNING, the scorer up to 1,269 neurons).
 */
final class FirstRecord {
    private FirstRecord() {}

    /** Waits (polling the threads' process-total every 2 ms) for the first record processed; its time, as System.nanoTime. */
    static long await(KafkaStreams streams, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (processed(streams) == 0) {
            if (System.nanoTime() > deadline || streams.state() == KafkaStreams.State.ERROR
                    || streams.state() == KafkaStreams.State.NOT_RUNNING) {
                throw new IllegalStateException("the app processed no record in " + timeout.toSeconds() + " s: "
                        + streams.state());
            }
            Thread.sleep(2);
        }
        return System.nanoTime();
    }

    /** Records the app's stream threads have processed so far (the sum of their process-total). */
    static long processed(KafkaStreams streams) {
        double sum = 0;
        for (var e : streams.metrics().entrySet()) {
            if (e.getKey().group().equals("stream-thread-metrics") && e.getKey().name().equals("process-total")
                    && e.getValue().metricValue() instanceof Double d) {
                sum += d;
            }
        }
        return Math.round(sum);
    }
}
