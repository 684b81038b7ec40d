package io.neuronexplainer.runtime;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * Drops the embedded broker's ERROR lines for an append it refused that the producer retries by
 * design, so a newcomer's demo shows no stack traces for what is not a fault: with Kafka 4's
 * transactions v2 a transactional producer's first batch to a partition after it begins a new
 * transaction may arrive out of sequence, the broker answers OUT_OF_ORDER_SEQUENCE_NUMBER and logs
 * it as an error, and the producer resends it. Only that case is dropped (logger, level, exception
 * and its "transactions v2" message): every other broker error still shows. Logback has no built-in
 * filter on an event's exception class without a scripting engine, hence this class.
 */
public final class RetriedBrokerErrors extends Filter<ILoggingEvent> {
    static final String LOGGER = "kafka.server.ReplicaManager";
    static final String EXCEPTION = "org.apache.kafka.common.errors.OutOfOrderSequenceException";

    @Override
    public FilterReply decide(ILoggingEvent event) {
        IThrowableProxy t = event.getThrowableProxy();
        if (t != null && LOGGER.equals(event.getLoggerName()) && EXCEPTION.equals(t.getClassName())
                && t.getMessage() != null && t.getMessage().contains("transactions v2")) {
            return FilterReply.DENY;
        }
        return FilterReply.NEUTRAL;
    }
}
