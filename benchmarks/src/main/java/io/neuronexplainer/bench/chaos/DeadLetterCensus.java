package io.neuronexplainer.bench.chaos;

import io.neuronexplainer.runtime.KafkaClients;
import io.neuronexplainer.schemas.AvroDeserializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.Topics;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads every dead letter committed on the {@code -dlq} topics (read_committed, from the start)
 * and checks them against the injected poison: each injected record must have exactly one letter
 * from each stage that reads its topic, carrying the record's bytes and a reason; any other
 * letter (a neuron given up on, a letter written twice) is a failure.
 */
final class DeadLetterCensus implements AutoCloseable {
    /** A dead letter as read. */
    record Letter(String topic, String stage, String sourceTopic, int partition, long offset, byte[] value, String reason) {}

    /** The check's outcome; {@code problems} names the first few letters or records that are wrong. */
    record Verdict(int deadLetters, int expected, int matched, int missing, int unexpected, List<String> problems) {
        boolean holds() {
            return deadLetters == expected && matched == expected && missing == 0 && unexpected == 0;
        }
    }

    private final CommittedTopicReader reader;
    private final AvroDeserializer<DeadLetter> letters;
    private final List<Letter> read = new ArrayList<>();

    DeadLetterCensus(KafkaClients clients) {
        List<String> topics = Topics.DATA.stream().map(s -> Topics.deadLetter(s.name())).toList();
        this.reader = new CommittedTopicReader(clients, topics);
        this.letters = AvroDeserializer.of(clients.registry(), DeadLetter.class);
    }

    void poll(Duration wait) {
        reader.poll(wait, r -> {
            DeadLetter l = letters.deserialize(r.topic(), r.value());
            read.add(new Letter(r.topic(), l.getStage(), l.getSourceTopic(), l.getSourcePartition(), l.getSourceOffset(),
                    bytes(l.getValue()), l.getErrorClass() + ": " + l.getErrorMessage()));
        });
    }

    int count() {
        return read.size();
    }

    boolean caughtUp() {
        return reader.caughtUp();
    }

    RuntimeException lastFailure() {
        return reader.lastFailure();
    }

    /** Checks the letters read against {@code injected}, each read by the stages {@code readers} names for its topic. */
    Verdict verdict(List<PoisonRecords.Injected> injected, Map<String, List<String>> readers) {
        Map<String, PoisonRecords.Injected> byPlace = new HashMap<>();
        int expected = 0;
        for (PoisonRecords.Injected r : injected) {
            for (String stage : readers.getOrDefault(r.topic(), List.of())) {
                byPlace.put(place(stage, r.topic(), r.partition(), r.offset()), r);
                expected++;
            }
        }
        Set<String> seen = new HashSet<>();
        List<String> problems = new ArrayList<>();
        int unexpected = 0;
        for (Letter l : read) {
            String place = place(l.stage(), l.sourceTopic(), l.partition(), l.offset());
            PoisonRecords.Injected r = byPlace.get(place);
            String why = null;
            if (r == null) {
                why = "not from an injected record";
            } else if (!l.topic().equals(Topics.deadLetter(r.topic()))) {
                why = "on the wrong topic";
            } else if (!Arrays.equals(l.value(), r.value())) {
                why = "does not carry the injected bytes";
            } else if (l.reason() == null || l.reason().isBlank() || l.reason().endsWith(": null")) {
                why = "has no reason";
            } else if (!seen.add(place)) {
                why = "is a second letter for the same record and stage";
            }
            if (why != null) {
                unexpected++;
                if (problems.size() < 10) {
                    String reason = String.valueOf(l.reason()).replaceAll("\\s+", " ");
                    problems.add("dead letter " + l.topic() + " from " + l.stage() + " for " + l.sourceTopic() + "-" + l.partition()
                            + "@" + l.offset() + " " + why + ": " + (reason.length() > 200 ? reason.substring(0, 200) + "..." : reason));
                }
            }
        }
        int missing = 0;
        for (String place : byPlace.keySet()) {
            if (!seen.contains(place)) {
                missing++;
                if (problems.size() < 10) {
                    problems.add("no dead letter from " + place.replaceFirst(" ", " for "));
                }
            }
        }
        return new Verdict(read.size(), expected, seen.size(), missing, unexpected, problems);
    }

    private static String place(String stage, String topic, int partition, long offset) {
        return stage + " " + topic + "-" + partition + "@" + offset;
    }

    private static byte[] bytes(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    @Override
    public void close() {
        reader.close();
    }
}
