package io.neuronexplainer.runtime.worker;

import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.Topics;
import java.nio.ByteBuffer;
import java.time.Instant;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Makes the dead letter of a record that is itself bad: its raw bytes, where it was, and why, on {@code <input>-dlq}. */
final class DeadLetterWriter {
    private static final Logger log = LoggerFactory.getLogger(DeadLetterWriter.class);

    private final String stage;
    private final String topic;
    private final OutputSerialiser serialiser;

    DeadLetterWriter(String stage, String inputTopic, OutputSerialiser serialiser) {
        this.stage = stage;
        this.topic = Topics.deadLetter(inputTopic);
        this.serialiser = serialiser;
    }

    ProducerRecord<byte[], byte[]> letter(PendingRecord r) {
        Throwable e = r.failure;
        String message = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        log.warn("{}: dead letter {} after {} attempt(s): {}: {}", stage, r.where(), r.attempts, e.getClass().getSimpleName(),
                message.replaceAll("\\s+", " "));
        DeadLetter letter = new DeadLetter(stage, r.raw.topic(), r.raw.partition(), r.offset(),
                r.raw.key() == null ? null : ByteBuffer.wrap(r.raw.key()),
                r.raw.value() == null ? null : ByteBuffer.wrap(r.raw.value()),
                e.getClass().getName(), message, r.attempts, Instant.now());
        // The key stays the failed record's own bytes: it may be the very thing that did not deserialise.
        return new ProducerRecord<>(topic, r.raw.key(), serialiser.value(topic, letter));
    }
}
