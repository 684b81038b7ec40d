package io.neuronexplainer.runtime.worker;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.neuronexplainer.schemas.SchemaRegistryException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;

/**
 * The one place that decides what a failure means: {@link FaultClass#TRANSIENT},
 * {@link FaultClass#FAILS_EVERY_RECORD} or {@link FaultClass#BAD_RECORD}. The workers act on it
 * and the LLM client retries exactly what is transient here.
 *
 * <table>
 * <caption>The classification</caption>
 * <tr><th>failure</th><th>class</th></tr>
 * <tr><td>registry unreachable, or HTTP 408, 429, 5xx</td><td>transient</td></tr>
 * <tr><td>registry HTTP 404 (a schema id it does not know: the record names it)</td><td>bad record</td></tr>
 * <tr><td>registry refusing our schema (409 incompatible, 422) or us (401, 403), other 4xx, non-JSON answers</td><td>fails every record</td></tr>
 * <tr><td>Kafka retriable errors and timeouts, network timeouts and refused connections</td><td>transient</td></tr>
 * <tr><td>LLM HTTP 408, 409, 429, 5xx; timeouts and I/O errors</td><td>transient</td></tr>
 * <tr><td>LLM HTTP 401, 402, 403, 404 (model not found), 429 with code insufficient_quota</td><td>fails every record</td></tr>
 * <tr><td>LLM HTTP 400, 413, 422 and other 4xx (this request refused); unusable answers after the attempts</td><td>bad record</td></tr>
 * <tr><td>bytes that do not decode, outputs of the wrong shape, anything else</td><td>bad record</td></tr>
 * </table>
 */
public final class Faults {
    private Faults() {}

    /** Classifies {@code failure} by the most telling cause in its chain. */
    public static Fault classify(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ClassifiedFailure c && c.fault() != null) {
                return c.fault();
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SchemaRegistryException e) {
                return ofRegistry(e);
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof org.apache.kafka.common.errors.TimeoutException || t instanceof RetriableException) {
                return new Fault(FaultClass.TRANSIENT, "broker_unavailable");
            }
            if (isNetwork(t)) {
                return new Fault(FaultClass.TRANSIENT, isTimeout(t) ? "timeout" : "io_error");
            }
        }
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SerializationException) {
                return new Fault(FaultClass.BAD_RECORD, "undecodable");
            }
        }
        return new Fault(FaultClass.BAD_RECORD, "bad_record");
    }

    /** A schema registry's refusal or silence. */
    static Fault ofRegistry(SchemaRegistryException e) {
        int status = e.status();
        if (status == -1) {
            // No answer at all, unless the answer was there but not the registry API's.
            for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
                if (t instanceof JsonProcessingException) {
                    return new Fault(FaultClass.FAILS_EVERY_RECORD, "registry_wrong_api");
                }
            }
            return new Fault(FaultClass.TRANSIENT, "registry_unreachable");
        }
        if (status == 408 || status == 429 || status >= 500) {
            return new Fault(FaultClass.TRANSIENT, "registry_unavailable");
        }
        if (status == 404) {
            // Fetching a schema by the id a record carries: the record names a schema the registry never had.
            return new Fault(FaultClass.BAD_RECORD, "unknown_schema_id");
        }
        if (status == 401 || status == 403) {
            return new Fault(FaultClass.FAILS_EVERY_RECORD, "registry_unauthorized");
        }
        if (status / 100 == 2) {
            return new Fault(FaultClass.FAILS_EVERY_RECORD, "registry_wrong_api");
        }
        return new Fault(FaultClass.FAILS_EVERY_RECORD, "registry_refused_schema");
    }

    /**
     * An LLM server's HTTP answer.
     *
     * @param errorCode the {@code error.code} of an OpenAI-format error body, or null
     */
    public static Fault ofLlmStatus(int status, String errorCode) {
        if (status == 429 && "insufficient_quota".equals(errorCode)) {
            return new Fault(FaultClass.FAILS_EVERY_RECORD, "llm_quota");
        }
        if (status == 408 || status == 409 || status == 429 || status >= 500) {
            return new Fault(FaultClass.TRANSIENT, status == 429 ? "llm_rate_limited" : "llm_unavailable");
        }
        return switch (status) {
            case 401 -> new Fault(FaultClass.FAILS_EVERY_RECORD, "llm_unauthorized");
            case 402 -> new Fault(FaultClass.FAILS_EVERY_RECORD, "llm_quota");
            case 403 -> new Fault(FaultClass.FAILS_EVERY_RECORD, "llm_forbidden");
            // A model (or endpoint) that is not there is not there for any record.
            case 404 -> new Fault(FaultClass.FAILS_EVERY_RECORD, "llm_model_not_found");
            default -> new Fault(FaultClass.BAD_RECORD, "llm_refused_request");
        };
    }

    /** An LLM answer that came but could not be used, after every attempt. */
    public static Fault unusableLlmAnswer() {
        return new Fault(FaultClass.BAD_RECORD, "unparseable_output");
    }

    /** A failure to reach a server: the network's, not the record's. */
    public static boolean isNetwork(Throwable t) {
        return t instanceof ConnectException || t instanceof NoRouteToHostException || t instanceof UnknownHostException
                || t instanceof SocketException || t instanceof HttpTimeoutException || t instanceof InterruptedIOException
                || t instanceof TimeoutException;
    }

    private static boolean isTimeout(Throwable t) {
        return t instanceof HttpTimeoutException || t instanceof InterruptedIOException || t instanceof TimeoutException;
    }
}
