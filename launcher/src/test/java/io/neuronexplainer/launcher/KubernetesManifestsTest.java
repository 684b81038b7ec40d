package io.neuronexplainer.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.neuronexplainer.explainer.ExplainerWorker;
import io.neuronexplainer.schemas.Topics;
import io.neuronexplainer.simulator.SimulatorWorker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/k8s/ cannot be applied here (no cluster), so every manifest is read into fabric8's typed
 * Kubernetes model with unknown fields refused: a misspelt field fails here instead of being
 * silently dropped by the API server (e.g. a "readinesProbe" that leaves a pod without a probe).
 * KEDA's ScaledObjects have no typed model, so their keys are checked against KEDA's documented
 * lists. Then what the deployment promises: probes, instance ids, the scorer's volume, the producer
 * as a service, and pools no larger than their partitions and their LLM budget.
 */
class KubernetesManifestsTest {
    static final Path K8S = DeployConfigTest.DEPLOY.resolve("k8s");
    static final int HEALTH_PORT = 9400;
    /** ConnectionOptions' --partitions default: topics are created with it, the ceiling on a group's consumers. */
    static final int DEFAULT_PARTITIONS = 6;

    /** KEDA 2.17's ScaledObject fields: https://keda.sh/docs/2.17/reference/scaledobject-spec/ */
    static final Set<String> SCALED_OBJECT_SPEC = Set.of("scaleTargetRef", "pollingInterval", "cooldownPeriod",
            "initialCooldownPeriod", "idleReplicaCount", "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers");
    static final Set<String> SCALE_TARGET_REF = Set.of("apiVersion", "kind", "name", "envSourceContainerName");
    static final Set<String> FALLBACK = Set.of("failureThreshold", "replicas", "behavior");
    static final Set<String> ADVANCED = Set.of("restoreToOriginalReplicaCount", "horizontalPodAutoscalerConfig", "scalingModifiers");
    static final Set<String> TRIGGER = Set.of("type", "metadata", "name", "useCachedMetrics", "authenticationRef", "metricType");
    /** The Kafka scaler's trigger metadata: https://keda.sh/docs/2.17/scalers/apache-kafka/ */
    static final Set<String> KAFKA_SCALER_METADATA = Set.of("bootstrapServers", "consumerGroup", "topic", "lagThreshold",
            "activationLagThreshold", "offsetResetPolicy", "allowIdleConsumers", "scaleToZeroOnInvalidOffset",
            "excludePersistentLag", "limitToPartitionsWithLag", "ensureEvenDistributionOfPartitions", "version",
            "partitionLimitation", "sasl", "saslTokenProvider", "tls", "unsafeSsl", "awsRegion");

    /** The kinds deploy/k8s may hold, each read into its typed model. */
    static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "ConfigMap", ConfigMap.class, "Secret", Secret.class, "Service", Service.class,
            "PersistentVolumeClaim", PersistentVolumeClaim.class, "Deployment", Deployment.class, "StatefulSet", StatefulSet.class);

    /**
     * fabric8's model classes collect unknown fields in an any-setter ("additionalProperties"),
     * so Jackson would accept anything: dropping that setter makes FAIL_ON_UNKNOWN_PROPERTIES apply.
     */
    static final YAMLMapper STRICT = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .addModule(new SimpleModule().setDeserializerModifier(new BeanDeserializerModifier() {
                @Override
                public BeanDeserializerBuilder updateBuilder(DeserializationConfig config, BeanDescription bean,
                                                             BeanDeserializerBuilder builder) {
                    if (bean.getBeanClass().getName().startsWith("io.fabric8.")) {
                        builder.setAnySetter(null);
                    }
                    return builder;
                }
            }))
            .build();

    static final List<HasMetadata> objects = new ArrayList<>();
    static final List<JsonNode> scaledObjects = new ArrayList<>();

    @BeforeAll
    static void readManifests() throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(K8S)) {
            files = list.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().toList();
        }
        assertFalse(files.isEmpty(), "no manifests in " + K8S);
        for (Path file : files) {
            for (JsonNode doc : readDocuments(file)) {
                String kind = doc.path("kind").asText();
                String where = file.getFileName() + ": " + kind + " " + doc.path("metadata").path("name").asText();
                if (kind.equals("ScaledObject")) {
                    assertEquals("keda.sh/v1alpha1", doc.path("apiVersion").asText(), where);
                    scaledObjects.add(doc);
                    continue;
                }
                Class<? extends HasMetadata> type = KINDS.get(kind);
                assertNotNull(type, where + ": a kind this test has no typed model for; add it to KINDS");
                assertEquals(HasMetadata.getApiVersion(type), doc.path("apiVersion").asText(), where);
                try {
                    objects.add(STRICT.treeToValue(doc, type));
                } catch (JsonMappingException e) {
                    fail(where + ": " + e.getOriginalMessage() + " at " + e.getPathReference(), e);
                }
            }
        }
    }

    static List<JsonNode> readDocuments(Path file) throws IOException {
        try (var parser = STRICT.createParser(file.toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            STRICT.readValues(parser, JsonNode.class).forEachRemaining(doc -> {
                if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                    docs.add(doc);
                }
            });
            return docs;
        }
    }

    @Test
    void aMisspeltFieldFailsTheTypedReading() throws Exception {
        // The proof that the reading above is strict: one letter off, in a probe's field and in a spec's.
        String deployment = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: x}
                spec:
                  selector: {matchLabels: {app: x}}
                  template:
                    metadata: {labels: {app: x}}
                    spec:
                      containers:
                        - name: x
                          image: x
                          readinesProbe: {httpGet: {path: /health/ready, port: 9400}}
                """;
        var e = assertThrows(UnrecognizedPropertyException.class,
                () -> STRICT.treeToValue(STRICT.readTree(deployment), Deployment.class));
        assertEquals("readinesProbe", e.getPropertyName());
        assertThrows(UnrecognizedPropertyException.class, () -> STRICT.treeToValue(
                STRICT.readTree(deployment.replace("readinesProbe", "readinessProbe").replace("selector:", "selektor:")),
                Deployment.class));
        STRICT.treeToValue(STRICT.readTree(deployment.replace("readinesProbe", "readinessProbe")), Deployment.class);
    }

    @Test
    void everyServiceHasProbesOnItsHealthPortAndResources() {
        List<String> checked = new ArrayList<>();
        for (HasMetadata object : objects) {
            PodTemplateSpec template = podTemplate(object);
            if (template == null) {
                continue;
            }
            for (Container c : template.getSpec().getContainers()) {
                String where = object.getMetadata().getName() + "/" + c.getName();
                assertNotNull(c.getLivenessProbe(), where + ": liveness probe");
                assertNotNull(c.getReadinessProbe(), where + ": readiness probe");
                assertNotNull(c.getResources(), where + ": resources");
                assertNotNull(c.getResources().getRequests(), where + ": resource requests");
                assertTrue(c.getResources().getRequests().containsKey("cpu"), where + ": a cpu request");
                assertTrue(c.getResources().getRequests().containsKey("memory"), where + ": a memory request");
                assertTrue(c.getResources().getLimits() != null && c.getResources().getLimits().containsKey("memory"),
                        where + ": a memory limit");
                if (!isOurs(c)) {
                    continue;
                }
                // Ours: /health/live for liveness (and start-up), /health/ready for readiness, on the port the args give.
                assertHttpProbe(where + " liveness", c.getLivenessProbe(), "/health/live");
                assertHttpProbe(where + " startup", c.getStartupProbe(), "/health/live");
                assertHttpProbe(where + " readiness", c.getReadinessProbe(), "/health/ready");
                String portFlag = args(c).get(0).equals("watch") ? "--http-port" : "--metrics-port";
                assertEquals(Integer.toString(HEALTH_PORT), option(c, portFlag), where + ": " + portFlag);
                assertEquals("0.0.0.0", option(c, portFlag.replace("-port", "-host")), where + ": reachable from the kubelet");
                assertTrue(c.getPorts().stream().anyMatch(p -> p.getContainerPort() == HEALTH_PORT), where + ": declares port 9400");
                checked.add(c.getName());
            }
        }
        assertEquals(Set.of("watcher", "producer", "explainer", "simulator", "scorer"), Set.copyOf(checked));
    }

    @Test
    void workersAndProducerTakeTheirInstanceIdFromThePodName() {
        for (String name : List.of("explainer", "simulator", "producer")) {
            Container c = container(name);
            assertNull(option(c, "--instance-id"), name + ": the id comes from the environment, not a fixed arg");
            EnvVar id = c.getEnv().stream().filter(e -> e.getName().equals("NEURON_INSTANCE_ID")).findFirst()
                    .orElseThrow(() -> new AssertionError(name + ": no NEURON_INSTANCE_ID"));
            assertNotNull(id.getValueFrom(), name);
            assertEquals("metadata.name", id.getValueFrom().getFieldRef().getFieldPath(), name + ": downward API, the pod's name");
        }
        // Stable across restarts only in a StatefulSet: the workers' transactional ids depend on it.
        assertTrue(workload("explainer") instanceof StatefulSet, "explainer is a StatefulSet");
        assertTrue(workload("simulator") instanceof StatefulSet, "simulator is a StatefulSet");
    }

    @Test
    void theProducerAndTheWatcherAreServicesTheScorerKeepsItsState() {
        assertTrue(workload("producer") instanceof Deployment, "the producer is a Deployment, not a one-off Job");
        assertEquals(List.of("produce", "--follow"), args(container("producer")).subList(0, 2));
        assertTrue(workload("watcher") instanceof Deployment, "the watcher is a Deployment");
        assertEquals("watch", args(container("watcher")).get(0));
        assertTrue(option(container("watcher"), "--folder") != null || option(container("watcher"), "--hub-repo") != null);

        StatefulSet scorer = (StatefulSet) workload("scorer");
        assertEquals(1, scorer.getSpec().getVolumeClaimTemplates().size(), "the scorer's state volume");
        String claim = scorer.getSpec().getVolumeClaimTemplates().get(0).getMetadata().getName();
        String stateDir = option(container("scorer"), "--state-dir");
        assertNotNull(stateDir, "the scorer's --state-dir");
        assertTrue(container("scorer").getVolumeMounts().stream()
                        .anyMatch(m -> m.getName().equals(claim) && stateDir.startsWith(m.getMountPath())),
                "--state-dir " + stateDir + " is on the claim " + claim);
        // The scorer compiles with C2 alone, as bin/neuron-explain runs `score`.
        assertTrue(env(container("scorer"), "JAVA_TOOL_OPTIONS").getValue().contains("-XX:-TieredCompilation"));
    }

    @Test
    void theRegistryKeepsItsSchemasOnAPersistentDatabase() {
        Container registry = podTemplate(workload("schema-registry")).getSpec().getContainers().get(0);
        assertTrue(registry.getImage().startsWith("apicurio/apicurio-registry-sql:2.6"), registry.getImage());
        String url = env(registry, "REGISTRY_DATASOURCE_URL").getValue();
        StatefulSet db = (StatefulSet) workload("registry-db");
        assertTrue(url.contains("//" + db.getMetadata().getName() + ":"), url);
        assertFalse(db.getSpec().getVolumeClaimTemplates().isEmpty(), "the database on a volume");
        // The services find it by the ConfigMap's URL, through its Service.
        String registryUrl = configMap().getData().get("NEURON_REGISTRY_URL");
        assertTrue(objects.stream().anyMatch(o -> o instanceof Service && registryUrl.startsWith("http://" + o.getMetadata().getName() + ":")),
                registryUrl + " names a Service of deploy/k8s");
    }

    @Test
    void theLlmKeyComesFromASecretAndEveryReferenceResolves() {
        for (String name : List.of("explainer", "simulator")) {
            var ref = env(container(name), "OPENAI_API_KEY").getValueFrom().getSecretKeyRef();
            Secret secret = (Secret) find("Secret", ref.getName());
            assertTrue(secret.getStringData() != null && secret.getStringData().containsKey(ref.getKey()), name + ": " + ref);
        }
        for (HasMetadata object : objects) {
            PodTemplateSpec template = podTemplate(object);
            if (template == null) {
                continue;
            }
            List<Container> all = new ArrayList<>(template.getSpec().getContainers());
            if (template.getSpec().getInitContainers() != null) {
                all.addAll(template.getSpec().getInitContainers());
            }
            for (Container c : all) {
                c.getEnvFrom().forEach(from -> find("ConfigMap", from.getConfigMapRef().getName()));
                c.getEnv().stream().filter(e -> e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null)
                        .forEach(e -> find("Secret", e.getValueFrom().getSecretKeyRef().getName()));
            }
            template.getSpec().getVolumes().stream().filter(v -> v.getPersistentVolumeClaim() != null)
                    .forEach(v -> find("PersistentVolumeClaim", v.getPersistentVolumeClaim().getClaimName()));
        }
    }

    @Test
    void scaledObjectsUseOnlyDocumentedKedaFields() {
        assertEquals(2, scaledObjects.size(), "one ScaledObject per worker pool");
        for (JsonNode so : scaledObjects) {
            assertKedaFields(so);
        }
    }

    @Test
    void aMisspeltKedaFieldFails() {
        ObjectNode so = scaledObjects.get(0).deepCopy();
        ObjectNode metadata = (ObjectNode) so.path("spec").path("triggers").path(0).path("metadata");
        metadata.set("lagTreshold", metadata.remove("lagThreshold"));
        assertThrows(AssertionError.class, () -> assertKedaFields(so));
        ObjectNode other = scaledObjects.get(0).deepCopy();
        ObjectNode spec = (ObjectNode) other.get("spec");
        spec.set("maxReplicas", spec.remove("maxReplicaCount"));
        assertThrows(AssertionError.class, () -> assertKedaFields(other));
        assertKedaFields(scaledObjects.get(0));
    }

    @Test
    void poolsScaleOnTheirGroupsLagWithinPartitionsAndLlmBudget() {
        Map<String, String> expectedGroup = Map.of("explainer", ExplainerWorker.STAGE, "simulator", SimulatorWorker.STAGE);
        Map<String, String> seen = new LinkedHashMap<>();
        for (JsonNode so : scaledObjects) {
            String name = so.path("metadata").path("name").asText();
            JsonNode spec = so.path("spec");
            JsonNode ref = spec.path("scaleTargetRef");
            HasMetadata target = find(ref.path("kind").asText("Deployment"), ref.path("name").asText());
            assertEquals(HasMetadata.getApiVersion(target.getClass()), ref.path("apiVersion").asText("apps/v1"), name);
            if (target instanceof StatefulSet s) {
                assertNull(s.getSpec().getReplicas(), name + ": KEDA owns the replicas; a re-apply must not reset them");
            } else if (target instanceof Deployment d) {
                assertNull(d.getSpec().getReplicas(), name + ": KEDA owns the replicas; a re-apply must not reset them");
            }
            Container worker = podTemplate(target).getSpec().getContainers().get(0);
            List<String> args = args(worker);
            String stage = args.get(0);
            assertTrue(Set.of("explain", "simulate").contains(stage), name + " scales " + stage);

            JsonNode trigger = spec.path("triggers").path(0);
            assertEquals(1, spec.path("triggers").size(), name);
            assertEquals("kafka", trigger.path("type").asText(), name);
            JsonNode m = trigger.path("metadata");
            String group = option(worker, "--group-id") == null ? expectedGroup.get(worker.getName()) : option(worker, "--group-id");
            assertEquals(group, m.path("consumerGroup").asText(), name + ": the workers' consumer group");
            String topic = stage.equals("simulate") ? Topics.SIMULATION_REQUESTS
                    : args.contains("--reuse-explanations") ? Topics.EXPLANATION_REQUESTS : Topics.NEURON_ACTIVATIONS;
            assertEquals(topic, m.path("topic").asText(), name + ": the workers' input topic");
            assertEquals(configMap().getData().get("NEURON_BOOTSTRAP_SERVERS"), m.path("bootstrapServers").asText(), name);
            // KafkaClients reads a new group from the earliest offset: KEDA must count its lag the same way.
            assertEquals("earliest", m.path("offsetResetPolicy").asText(), name);
            assertTrue(Integer.parseInt(m.path("lagThreshold").asText()) > 0, name);

            int partitions = option(worker, "--partitions") == null ? DEFAULT_PARTITIONS : Integer.parseInt(option(worker, "--partitions"));
            int min = spec.path("minReplicaCount").asInt(0);
            int max = spec.path("maxReplicaCount").asInt(-1);
            assertTrue(spec.path("maxReplicaCount").isInt(), name + ": maxReplicaCount set (KEDA's default is 100)");
            assertTrue(0 <= min && min <= max && max <= partitions,
                    name + ": 0 <= min " + min + " <= max " + max + " <= partitions " + partitions);

            // The pool's LLM spend is bounded by max x the per-worker caps, which must fit its share of the provider's limit.
            JsonNode annotations = so.path("metadata").path("annotations");
            for (String unit : List.of("calls", "tokens")) {
                String cap = option(worker, "--llm-max-" + unit + "-per-minute");
                assertNotNull(cap, name + ": a per-worker --llm-max-" + unit + "-per-minute");
                long budget = Long.parseLong(annotations.path("neuron-explain/pool-llm-" + unit + "-per-minute").asText("0"));
                assertTrue((long) max * Long.parseLong(cap) <= budget,
                        name + ": " + max + " replicas x " + cap + " " + unit + "/min exceeds the pool's budget " + budget);
            }
            seen.put(worker.getName(), m.path("consumerGroup").asText());
        }
        assertEquals(expectedGroup, seen, "both pools autoscaled");
    }

    static void assertKedaFields(JsonNode so) {
        String name = so.path("metadata").path("name").asText();
        assertKeys(name, so, Set.of("apiVersion", "kind", "metadata", "spec"));
        try {
            STRICT.treeToValue(so.path("metadata"), ObjectMeta.class);
        } catch (IOException e) {
            throw new AssertionError(name + ": metadata: " + e.getMessage(), e);
        }
        JsonNode spec = so.path("spec");
        assertKeys(name + " spec", spec, SCALED_OBJECT_SPEC);
        assertKeys(name + " scaleTargetRef", spec.path("scaleTargetRef"), SCALE_TARGET_REF);
        for (String count : List.of("pollingInterval", "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount",
                "minReplicaCount", "maxReplicaCount")) {
            assertTrue(spec.path(count).isMissingNode() || spec.path(count).isInt(), name + ": " + count + " is an integer");
        }
        if (spec.has("fallback")) {
            assertKeys(name + " fallback", spec.path("fallback"), FALLBACK);
        }
        if (spec.has("advanced")) {
            assertKeys(name + " advanced", spec.path("advanced"), ADVANCED);
            assertFalse(spec.path("advanced").has("horizontalPodAutoscalerConfig"),
                    name + ": horizontalPodAutoscalerConfig is not checked yet: give it a typed model here first");
        }
        assertTrue(spec.path("triggers").isArray() && !spec.path("triggers").isEmpty(), name + ": triggers");
        for (JsonNode trigger : spec.path("triggers")) {
            assertKeys(name + " trigger", trigger, TRIGGER);
            assertEquals("kafka", trigger.path("type").asText(), name + ": only the Kafka scaler's fields are listed here");
            assertKeys(name + " kafka metadata", trigger.path("metadata"), KAFKA_SCALER_METADATA);
            // KEDA's trigger metadata is a map of strings: 5 must be written '5'.
            trigger.path("metadata").fields().forEachRemaining(f ->
                    assertTrue(f.getValue().isTextual(), name + ": metadata " + f.getKey() + " must be a string"));
        }
    }

    static void assertKeys(String where, JsonNode node, Set<String> documented) {
        assertTrue(node.isObject(), where + " is a mapping");
        node.fieldNames().forEachRemaining(key ->
                assertTrue(documented.contains(key), where + ": '" + key + "' is not a documented field " + documented));
    }

    static void assertHttpProbe(String where, Probe probe, String path) {
        assertNotNull(probe, where);
        HTTPGetAction get = probe.getHttpGet();
        assertNotNull(get, where + ": an HTTP probe");
        assertEquals(path, get.getPath(), where);
        assertEquals(Integer.valueOf(HEALTH_PORT), get.getPort().getIntVal(), where + ": port");
    }

    static boolean isOurs(Container c) {
        return c.getImage().startsWith("neuron-explain");
    }

    static PodTemplateSpec podTemplate(HasMetadata object) {
        if (object instanceof Deployment d) {
            return d.getSpec().getTemplate();
        }
        if (object instanceof StatefulSet s) {
            return s.getSpec().getTemplate();
        }
        return null;
    }

    static HasMetadata find(String kind, String name) {
        return objects.stream().filter(o -> o.getKind().equals(kind) && o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in deploy/k8s"));
    }

    static HasMetadata workload(String name) {
        return objects.stream().filter(o -> podTemplate(o) != null && o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no Deployment or StatefulSet " + name));
    }

    static Container container(String name) {
        return podTemplate(workload(name)).getSpec().getContainers().stream().filter(c -> c.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no container " + name));
    }

    static ConfigMap configMap() {
        return (ConfigMap) find("ConfigMap", "neuron-explain");
    }

    static EnvVar env(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + ": no env " + name));
    }

    static List<String> args(Container c) {
        assertNotNull(c.getArgs(), c.getName() + ": args");
        return c.getArgs();
    }

    /** The value of {@code --flag V} or {@code --flag=V}, or null. */
    static String option(Container c, String flag) {
        List<String> args = args(c);
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals(flag) && i + 1 < args.size()) {
                return args.get(i + 1);
            }
            if (args.get(i).startsWith(flag + "=")) {
                return args.get(i).substring(flag.length() + 1);
            }
        }
        return null;
    }
}
