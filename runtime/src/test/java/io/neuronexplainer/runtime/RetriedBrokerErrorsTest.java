package io.neuronexplainer.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.spi.FilterReply;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.junit.jupiter.api.Test;

/** Only the broker's error for a transactions-v2 append the producer retries is dropped. */
class RetriedBrokerErrorsTest {
    static final String RETRIED = "Invalid sequence number for producer 2 at offset 12 in partition neuron-best-scores-0: 2 "
            + "(incoming seq. number). Expected sequence 0 for transactions v2 idempotent producer with no existing state.";

    static FilterReply decide(String logger, Throwable t) {
        LoggerContext context = new LoggerContext();
        LoggingEvent event = new LoggingEvent("fqcn", context.getLogger(logger), Level.ERROR,
                "Error processing append operation on partition x", t, null);
        return new RetriedBrokerErrors().decide(event);
    }

    @Test
    void dropsOnlyTheRetriedOutOfOrderAppend() {
        assertEquals(FilterReply.DENY, decide(RetriedBrokerErrors.LOGGER, new OutOfOrderSequenceException(RETRIED)));
        assertEquals(FilterReply.NEUTRAL, decide(RetriedBrokerErrors.LOGGER,
                new OutOfOrderSequenceException("Out of order sequence number for producer 1674: 51 (incoming seq. number), 49")));
        assertEquals(FilterReply.NEUTRAL, decide(RetriedBrokerErrors.LOGGER, new IllegalStateException(RETRIED)));
        assertEquals(FilterReply.NEUTRAL, decide("kafka.server.KafkaApis", new OutOfOrderSequenceException(RETRIED)));
        assertEquals(FilterReply.NEUTRAL, decide(RetriedBrokerErrors.LOGGER, null));
    }
}
