package io.neuronexplainer.producer;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.runtime.TopicSnapshot;
import io.neuronexplainer.schemas.CheckpointRun;
import io.neuronexplainer.schemas.CheckpointRunKey;
import io.neuronexplainer.schemas.RunState;
import io.neuronexplainer.schemas.Topics;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** The latest state of every run in {@code checkpoint-runs}, read at once: which runs are already COMPLETED. */
public final class CheckpointRuns {
    private final Map<CheckpointRunKey, CheckpointRun> latest;

    private CheckpointRuns(Map<CheckpointRunKey, CheckpointRun> latest) {
        this.latest = latest;
    }

    public static CheckpointRuns read(KafkaClients clients) {
        Map<CheckpointRunKey, CheckpointRun> latest = new LinkedHashMap<>();
        for (ConsumerRecord<CheckpointRunKey, CheckpointRun> r
                : TopicSnapshot.read(clients, Topics.CHECKPOINT_RUNS, CheckpointRunKey.class, CheckpointRun.class)) {
            if (r.key() != null && r.value() != null) {
                latest.put(r.key(), r.value());
            }
        }
        return new CheckpointRuns(latest);
    }

    /**
     * The COMPLETED record of this run that emitted at least the neurons asked for ("" = all), if any:
     * such a run need not be done again.
     */
    public Optional<CheckpointRun> completed(String runId, String neurons) {
        return latest.values().stream()
                .filter(r -> r.getRunId().equals(runId) && r.getState() == RunState.COMPLETED && r.getShard() < 0)
                .filter(r -> r.getNeurons().isEmpty() || r.getNeurons().equals(neurons))
                .findFirst();
    }

    /** The latest record of one key (a run, or one shard of it), or null. */
    public CheckpointRun latest(CheckpointRunKey key) {
        return latest.get(key);
    }

    public Collection<CheckpointRun> all() {
        return latest.values();
    }
}
