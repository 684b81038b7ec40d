package io.neuronexplainer.scorer;

import io.neuronexplainer.schemas.AvroSerializer;
import io.neuronexplainer.schemas.DeadLetter;
import io.neuronexplainer.schemas.RegistryClient;
import io.neuronexplainer.schemas.Topics;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A record the scorer cannot read (not Avro, unknown schema) or cannot process goes to
 * {@code <topic>-dlq} as a DeadLetter with its raw bytes and the reason, in the same
 * transaction as the rest of the work, and processing goes on.
 */
public class DeadLetterHandler implements DeserializationExceptionHandler, ProcessingExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(DeadLetterHandler.class);
    private AvroSerializer<DeadLetter> serializer;

    @Override
    public void configure(Map<String, ?> configs) {
        Object url = configs.get(RegistryClient.URL_CONFIG);
        if (url == null) {
            throw new IllegalArgumentException("missing " + RegistryClient.URL_CONFIG + " for the dead-letter handler");
        }
        serializer = new AvroSerializer<>(RegistryClient.shared(url.toString()), false);
    }

    @Override
    public DeserializationExceptionHandler.Response handleError(ErrorHandlerContext context,
            ConsumerRecord<byte[], byte[]> record, Exception exception) {
        return DeserializationExceptionHandler.Response.resume(
                letter(record.topic(), record.partition(), record.offset(), record.key(), record.value(), exception));
    }

    @Override
    public ProcessingExceptionHandler.Response handleError(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        if (context.topic() == null) {
            log.error("processing failed outside any input record, dropped: {}", exception.toString(), exception);
            return ProcessingExceptionHandler.Response.resume();
        }
        return ProcessingExceptionHandler.Response.resume(letter(context.topic(), context.partition(), context.offset(),
                context.sourceRawKey(), context.sourceRawValue(), exception));
    }

    private List<ProducerRecord<byte[], byte[]>> letter(String source, int partition, long offset, byte[] key, byte[] value,
                                                       Exception exception) {
        String topic = Topics.deadLetter(source);
        log.warn("record {}-{}@{} sent to {}: {}", source, partition, offset, topic, exception.toString());
        DeadLetter letter = new DeadLetter("score-aggregator", source, partition, offset,
                key == null ? null : ByteBuffer.wrap(key), value == null ? null : ByteBuffer.wrap(value),
                exception.getClass().getName(), String.valueOf(exception.getMessage()), 1, Instant.now());
        return List.of(new ProducerRecord<>(topic, key, serializer.serialize(topic, letter)));
    }
}
