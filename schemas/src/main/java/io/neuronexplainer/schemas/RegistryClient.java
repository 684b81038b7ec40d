package io.neuronexplainer.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * A small client of the Confluent-compatible schema registry REST API: register, look up,
 * fetch by id, set compatibility, with ids cached both ways.
 *
 * <p>Written by hand because Confluent's client jars are not served from Maven Central and
 * Apicurio's own serdes speak a different wire format; any registry with this API works
 * (Confluent, Apicurio's ccompat, Karapace, Redpanda).
 */
public final class RegistryClient {
    public static final String URL_CONFIG = "schema.registry.url";
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, RegistryClient> SHARED = new ConcurrentHashMap<>();

    private final String baseUrl;
    private final HttpClient http;
    private final Duration requestTimeout;
    private final Map<String, Map<Schema, Integer>> idsBySubject = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();

    public RegistryClient(String baseUrl, Duration timeout) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.requestTimeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** One client (and cache) per registry URL for the whole JVM, as Kafka creates serdes by class. */
    public static RegistryClient shared(String baseUrl) {
        return SHARED.computeIfAbsent(baseUrl, u -> new RegistryClient(u, Duration.ofSeconds(10)));
    }

    public String url() {
        return baseUrl;
    }

    /**
     * Registers {@code schema} under {@code subject} (or finds it there) and returns its id.
     * New subjects are set to BACKWARD compatibility.
     *
     * @throws IncompatibleSchemaException naming the subject and the offending fields
     */
    public int register(String subject, Schema schema) {
        Map<Schema, Integer> ids = idsBySubject.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
        Integer cached = ids.get(schema);
        if (cached != null) {
            return cached;
        }
        // One registration per subject at a time: concurrent first registrations of a new subject
        // make the registry answer 409 "already exists" to all but one of them.
        synchronized (ids) {
            cached = ids.get(schema);
            if (cached != null) {
                return cached;
            }
            return registerNow(subject, schema, ids);
        }
    }

    private int registerNow(String subject, Schema schema, Map<Schema, Integer> ids) {
        boolean subjectExisted = latest(subject) != null;
        String body = JSON.createObjectNode().put("schema", schema.toString()).toString();
        HttpResponse<String> response = send("POST", "/subjects/" + encode(subject) + "/versions", body);
        if (response.statusCode() == 409 && response.body().contains("already exists")) {
            // Another process created the subject between our look-up and our POST: register again.
            subjectExisted = true;
            response = send("POST", "/subjects/" + encode(subject) + "/versions", body);
        }
        if (response.statusCode() == 409) {
            throw incompatible(subject, schema, response.body());
        }
        JsonNode answer = expectOk(response, "register a schema under subject " + subject);
        int id = answer.path("id").asInt(-1);
        if (id < 0) {
            throw new SchemaRegistryException("schema registry at " + baseUrl + " gave no id when registering under subject "
                    + subject + ": " + oneLine(response.body()), response.statusCode());
        }
        if (!subjectExisted) {
            setCompatibility(subject, "BACKWARD");
        }
        ids.put(schema, id);
        schemasById.putIfAbsent(id, schema);
        return id;
    }

    /** Names of all subjects; also the cheapest check that the registry answers this API. */
    public List<String> subjects() {
        JsonNode answer = expectOk(send("GET", "/subjects", null), "list subjects");
        if (!answer.isArray()) {
            throw new SchemaRegistryException("schema registry at " + baseUrl + " did not answer /subjects with a list"
                    + " (is it the Confluent-compatible API, e.g. .../apis/ccompat/v7 for Apicurio?)", 200);
        }
        List<String> names = new java.util.ArrayList<>();
        answer.forEach(n -> names.add(n.asText()));
        return names;
    }

    /** The schema with the given id; cached, since an id's schema never changes. */
    public Schema byId(int id) {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = expectOk(send("GET", "/schemas/ids/" + id, null), "fetch schema id " + id);
        Schema schema = new Schema.Parser().parse(answer.path("schema").asText());
        schemasById.putIfAbsent(id, schema);
        return schema;
    }

    /** The latest schema registered under {@code subject}, or null when the subject does not exist. */
    public Schema latest(String subject) {
        HttpResponse<String> response = send("GET", "/subjects/" + encode(subject) + "/versions/latest", null);
        if (response.statusCode() == 404) {
            return null;
        }
        JsonNode answer = expectOk(response, "read the latest schema of subject " + subject);
        return new Schema.Parser().parse(answer.path("schema").asText());
    }

    /** Sets the subject's compatibility rule (BACKWARD, FORWARD, FULL, NONE, ...). */
    public void setCompatibility(String subject, String level) {
        String body = JSON.createObjectNode().put("compatibility", level).toString();
        expectOk(send("PUT", "/config/" + encode(subject), body), "set compatibility of subject " + subject);
    }

    /** The subject's compatibility rule, or null when it has none of its own. */
    public String compatibility(String subject) {
        HttpResponse<String> response = send("GET", "/config/" + encode(subject), null);
        if (response.statusCode() == 404) {
            return null;
        }
        JsonNode answer = expectOk(response, "read compatibility of subject " + subject);
        JsonNode level = answer.has("compatibilityLevel") ? answer.get("compatibilityLevel") : answer.get("compatibility");
        return level == null ? null : level.asText();
    }

    private IncompatibleSchemaException incompatible(String subject, Schema proposed, String registryMessage) {
        String detail;
        Schema current = latest(subject);
        if (current == null) {
            detail = oneLine(registryMessage);
        } else {
            // BACKWARD: the new schema must read what the current one wrote. Avro names the breaking fields.
            var result = SchemaCompatibility.checkReaderWriterCompatibility(proposed, current).getResult();
            List<String> problems = result.getIncompatibilities().stream()
                    .map(i -> "field " + fieldAt(proposed, i.getLocation()) + ": " + describe(i))
                    .collect(Collectors.toList());
            detail = problems.isEmpty() ? oneLine(registryMessage) : String.join("; ", problems);
        }
        return new IncompatibleSchemaException("schema for subject " + subject
                + " is incompatible with the registered one (BACKWARD): " + detail);
    }

    private static String describe(SchemaCompatibility.Incompatibility i) {
        return switch (i.getType()) {
            case READER_FIELD_MISSING_DEFAULT_VALUE -> "added without a default value";
            case TYPE_MISMATCH -> "type changed (" + i.getMessage() + ")";
            default -> i.getType().toString().toLowerCase().replace('_', ' ') + " (" + i.getMessage() + ")";
        };
    }

    /** Turns a JSON-pointer location such as /fields/3/type into a dotted field path. */
    static String fieldAt(Schema schema, String location) {
        String[] parts = location.split("/");
        StringBuilder path = new StringBuilder();
        Schema current = schema;
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].equals("fields") && i + 1 < parts.length && current != null
                    && current.getType() == Schema.Type.RECORD) {
                Schema.Field field = current.getFields().get(Integer.parseInt(parts[++i]));
                path.append(path.length() == 0 ? "" : ".").append(field.name());
                current = field.schema();
            } else if (parts[i].equals("items") && current != null && current.getType() == Schema.Type.ARRAY) {
                current = current.getElementType();
            }
        }
        return path.length() == 0 ? "'" + location + "'" : "'" + path + "'";
    }

    private HttpResponse<String> send(String method, String path, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .timeout(requestTimeout)
                .header("Accept", CONTENT_TYPE + ", application/json");
        if (body != null) {
            request.header("Content-Type", CONTENT_TYPE);
        }
        request.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new SchemaRegistryException("schema registry at " + baseUrl + " is unreachable ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryException("interrupted while calling schema registry at " + baseUrl, e);
        }
    }

    private JsonNode expectOk(HttpResponse<String> response, String what) {
        if (response.statusCode() / 100 != 2) {
            throw new SchemaRegistryException("schema registry at " + baseUrl + " refused to " + what + ": HTTP "
                    + response.statusCode() + " " + oneLine(response.body()), response.statusCode());
        }
        try {
            return JSON.readTree(response.body().isEmpty() ? "{}" : response.body());
        } catch (IOException e) {
            throw new SchemaRegistryException("schema registry at " + baseUrl + " answered non-JSON to " + what
                    + " (is " + baseUrl + " a Confluent-compatible registry API?): " + oneLine(response.body()), e);
        }
    }

    private static String oneLine(String s) {
        String flat = s == null ? "" : s.replaceAll("\\s+", " ").trim();
        return flat.length() > 300 ? flat.substring(0, 300) + "..." : flat;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
