package io.neuronexplainer.runtime.worker;

import java.time.Duration;

/** What a worker did between start and stop, for its one-line exit summary. */
public record WorkerSummary(String stage, long done, long deadLetters, long duplicatesSkipped, long transactions, long rewinds,
                            Duration elapsed, String stoppedBecause) {
    public String line() {
        double seconds = elapsed.toMillis() / 1000.0;
        return String.format("%s: %d records done (%d dead letters, %d duplicates skipped) in %d transactions, %.1f s, %.1f records/s; stopped: %s",
                stage, done, deadLetters, duplicatesSkipped, transactions, seconds, seconds > 0 ? done / seconds : 0.0, stoppedBecause);
    }
}
