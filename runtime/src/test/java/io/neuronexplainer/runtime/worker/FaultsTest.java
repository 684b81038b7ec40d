package io.neuronexplainer.runtime.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.neuronexplainer.schemas.IncompatibleSchemaException;
import io.neuronexplainer.schemas.SchemaRegistryException;
import java.io.EOFException;
import java.net.ConnectException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

/** The classification table of {@link Faults}, and the pause's gauge as Prometheus scrapes it. */
class FaultsTest {
    @Test
    void registryFailuresAreClassifiedByWhatTheyMeanForTheRecord() {
        var unreachable = new SchemaRegistryException("schema registry at X is unreachable", new ConnectException("refused"));
        // As the worker sees a decode failure: wrapped twice.
        assertEquals(new Fault(FaultClass.TRANSIENT, "registry_unreachable"), Faults.classify(decodeFailure(unreachable)));
        assertEquals(FaultClass.TRANSIENT, Faults.classify(new SchemaRegistryException("busy", 503)).kind());
        assertEquals(new Fault(FaultClass.BAD_RECORD, "unknown_schema_id"), Faults.classify(decodeFailure(new SchemaRegistryException("no id", 404))));
        assertEquals(new Fault(FaultClass.FAILS_EVERY_RECORD, "registry_refused_schema"), Faults.classify(new IncompatibleSchemaException("no")));
        assertEquals(new Fault(FaultClass.FAILS_EVERY_RECORD, "registry_unauthorized"), Faults.classify(new SchemaRegistryException("no", 401)));
    }

    @Test
    void llmAnswersAreClassifiedByStatus() {
        assertEquals(FaultClass.TRANSIENT, Faults.ofLlmStatus(429, "rate_limit_exceeded").kind());
        assertEquals(FaultClass.TRANSIENT, Faults.ofLlmStatus(500, null).kind());
        assertEquals(FaultClass.TRANSIENT, Faults.ofLlmStatus(408, null).kind());
        assertEquals(new Fault(FaultClass.FAILS_EVERY_RECORD, "llm_unauthorized"), Faults.ofLlmStatus(401, "invalid_api_key"));
        assertEquals(FaultClass.FAILS_EVERY_RECORD, Faults.ofLlmStatus(403, null).kind());
        assertEquals(new Fault(FaultClass.FAILS_EVERY_RECORD, "llm_model_not_found"), Faults.ofLlmStatus(404, "model_not_found"));
        assertEquals(FaultClass.FAILS_EVERY_RECORD, Faults.ofLlmStatus(429, "insufficient_quota").kind());
        assertEquals(FaultClass.BAD_RECORD, Faults.ofLlmStatus(400, "context_length_exceeded").kind());
    }

    @Test
    void brokerTimeoutsAreTransientAndBytesThatDoNotDecodeAreBadRecords() {
        assertEquals(FaultClass.TRANSIENT, Faults.classify(new TimeoutException("no broker")).kind());
        // A truncated Avro body fails with an IOException: the record's, not the network's.
        assertEquals(new Fault(FaultClass.BAD_RECORD, "undecodable"), Faults.classify(decodeFailure(new EOFException())));
        assertEquals(new Fault(FaultClass.BAD_RECORD, "undecodable"), Faults.classify(new SerializationException("not in the wire format")));
        assertEquals(FaultClass.BAD_RECORD, Faults.classify(new IllegalStateException("3 predictions for 4 windows")).kind());
    }

    @Test
    void aPauseShowsAsAGaugeInTheScrape() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new WorkerMeters(registry, "s", new AtomicInteger());
        WorkerPause pause = new WorkerPause("s", FaultTiming.defaults(), registry);
        PendingRecord r = new PendingRecord(new ConsumerRecord<>("t", 0, 0L, new byte[0], new byte[0]));
        r.fault = Faults.ofLlmStatus(401, null);
        r.failure = new RuntimeException("HTTP 401: Incorrect API key provided");
        pause.hold(r, System.nanoTime());
        assertTrue(registry.scrape().contains("worker_paused{reason=\"llm_unauthorized\",stage=\"s\"} 1.0"), registry.scrape());
        pause.resume(System.nanoTime());
        assertTrue(registry.scrape().contains("worker_paused{reason=\"llm_unauthorized\",stage=\"s\"} 0.0"));
    }

    private static SerializationException decodeFailure(Throwable cause) {
        return new SerializationException("cannot deserialise record: x", new SerializationException("cannot read Avro record", cause));
    }
}
