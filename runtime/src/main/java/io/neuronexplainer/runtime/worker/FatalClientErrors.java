package io.neuronexplainer.runtime.worker;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

/**
 * The Kafka client errors a worker cannot go on after, and the one-line exception it stops with:
 * {@link WorkerFencedException} when another instance took its place, {@link WorkerFailedException} otherwise.
 */
final class FatalClientErrors {
    private final WorkerSettings settings;

    FatalClientErrors(WorkerSettings settings) {
        this.settings = settings;
    }

    /** Whether the producer cannot be used again after {@code e}: aborting and retrying would not help. */
    static boolean isFatal(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (isFencing(t) || t instanceof OutOfOrderSequenceException || t instanceof AuthorizationException
                    || t instanceof UnsupportedVersionException) {
                return true;
            }
        }
        return false;
    }

    private static boolean isFencing(Throwable t) {
        return t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException || t instanceof FencedInstanceIdException;
    }

    /** The exception to stop with after {@code what} failed with {@code e}. */
    KafkaException stop(String what, Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
                return new WorkerFencedException(prefix(what) + "fenced: another instance started with transactional id "
                        + settings.transactionalId() + "; stopping", e);
            }
            if (t instanceof FencedInstanceIdException) {
                return new WorkerFencedException(prefix(what) + "fenced: another instance took group instance id "
                        + settings.instanceId() + "; stopping", e);
            }
        }
        String why = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
        return new WorkerFailedException(prefix(what) + why.replaceAll("\\s+", " ") + "; stopping", e);
    }

    private String prefix(String what) {
        return settings.stage() + " " + settings.instanceId() + ": " + what + ": ";
    }
}
