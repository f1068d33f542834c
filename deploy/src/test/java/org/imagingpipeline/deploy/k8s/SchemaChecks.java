package org.imagingpipeline.deploy.k8s;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.AnnotatedMember;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The offline schema check: every rendered object is read into the typed model of its {@code apiVersion} and
 * {@code kind} - fabric8's Kubernetes model for the built-in kinds, Strimzi's own model classes ({@code io.strimzi:api})
 * for its custom resources - so a value of the wrong type (a string where the API wants an integer, an unknown enum
 * value such as a listener type) fails, and every field the schema does not have (the models keep those aside as
 * "additional properties") is named with its path: a misspelt field that the API server would prune or refuse.
 * What it cannot see: required fields (the models accept their absence; the other checks of ManifestChecks look for
 * the ones the pipeline needs) and KEDA's ScaledObject and TriggerAuthentication, for which no schema is published on
 * Maven Central (AutoscalingChecks checks what they refer to). A kind in neither list is a problem: a new kind needs its
 * schema here.
 */
final class SchemaChecks {
    static final Map<String, Class<?>> MODELS = Map.ofEntries(
            Map.entry("v1/Namespace", Namespace.class),
            Map.entry("v1/ConfigMap", ConfigMap.class),
            Map.entry("v1/Secret", Secret.class),
            Map.entry("v1/Service", Service.class),
            Map.entry("v1/ServiceAccount", ServiceAccount.class),
            Map.entry("v1/PersistentVolumeClaim", PersistentVolumeClaim.class),
            Map.entry("apps/v1/Deployment", Deployment.class),
            Map.entry("apps/v1/StatefulSet", StatefulSet.class),
            Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
            Map.entry("networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class),
            Map.entry("kafka.strimzi.io/v1beta2/Kafka", Kafka.class),
            Map.entry("kafka.strimzi.io/v1beta2/KafkaNodePool", KafkaNodePool.class),
            Map.entry("kafka.strimzi.io/v1beta2/KafkaTopic", KafkaTopic.class),
            Map.entry("kafka.strimzi.io/v1beta2/KafkaUser", KafkaUser.class));
    /** Kinds with no schema that can be checked offline (see the class comment). */
    static final Set<String> UNCHECKED = Set.of("keda.sh/v1alpha1/ScaledObject", "keda.sh/v1alpha1/TriggerAuthentication");

    private static final ObjectMapper MAPPER = Kustomize.YAML;
    private static final Map<Class<?>, BeanDescription> BEANS = new java.util.concurrent.ConcurrentHashMap<>();
    /** Writes every property, defaults and empty ones too (the models leave those out), for the read-back comparison. */
    private static final ObjectMapper READ_BACK = Kustomize.YAML.copy().setAnnotationIntrospector(new JacksonAnnotationIntrospector() {
        @Override
        public JsonInclude.Value findPropertyInclusion(Annotated a) {
            return JsonInclude.Value.construct(JsonInclude.Include.ALWAYS, JsonInclude.Include.ALWAYS);
        }
    });

    private SchemaChecks() {
    }

    static List<String> check(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (ObjectNode o : m.objects) {
            String type = o.path("apiVersion").asText() + "/" + o.path("kind").asText();
            String id = o.path("kind").asText() + " " + Manifests.name(o);
            Class<?> model = MODELS.get(type);
            if (model == null) {
                if (!UNCHECKED.contains(type)) problems.add(id + ": no schema known for " + type + " (add its model to SchemaChecks)");
                continue;
            }
            Object typed;
            try {
                typed = MAPPER.treeToValue(o, model);
            } catch (Exception e) {
                problems.add(id + ": does not match the " + type + " schema: " + e.getMessage().lines().findFirst().orElse(""));
                continue;
            }
            unknownFields(typed, "", id, problems);
            differences(o, READ_BACK.valueToTree(typed), "", id, problems);
        }
        return problems;
    }

    /** Walks the typed object and names every field its model did not know (kept in an any-setter map). */
    private static void unknownFields(Object value, String path, String id, List<String> problems) {
        if (value == null || value instanceof Enum<?>) return;
        if (path.length() > 400) throw new IllegalStateException("schema walk too deep at " + path.substring(0, 300));
        if (value instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) unknownFields(e, path + "[" + i++ + "]", id, problems);
            return;
        }
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) unknownFields(e.getValue(), path + "." + e.getKey(), id, problems);
            return;
        }
        String pkg = value.getClass().getPackageName();
        if (!pkg.startsWith("io.fabric8.kubernetes.api.model") && !pkg.startsWith("io.strimzi.api")) return;
        BeanDescription d = BEANS.computeIfAbsent(value.getClass(), c -> MAPPER.getSerializationConfig().introspect(MAPPER.constructType(c)));
        AnnotatedMember any = d.findAnyGetter();
        if (any != null && any.getValue(value) instanceof Map<?, ?> extra && !extra.isEmpty()) {
            for (Object k : extra.keySet()) {
                problems.add(id + ": unknown field " + (path.isEmpty() ? "" : path.substring(1) + ".") + k + " (not in the "
                        + value.getClass().getSimpleName() + " schema)");
            }
        }
        for (BeanPropertyDefinition p : d.findProperties()) {
            AnnotatedMember accessor = p.getAccessor();
            if (accessor == null || accessor.equals(any)) continue;
            Object v;
            try {
                v = accessor.getValue(value);
            } catch (RuntimeException e) {
                continue; // a computed property of a model class, not a field of the object
            }
            unknownFields(v, path + "." + p.getName(), id, problems);
        }
    }

    /**
     * Where the object read back from its model differs from what was written: a value the model could not hold (an
     * unknown enum constant read as null, a string where the schema has a number).
     */
    private static void differences(com.fasterxml.jackson.databind.JsonNode written, com.fasterxml.jackson.databind.JsonNode read,
                                    String path, String id, List<String> problems) {
        if (written.isObject()) {
            for (java.util.Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = written.fields(); it.hasNext(); ) {
                Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e = it.next();
                com.fasterxml.jackson.databind.JsonNode back = read.path(e.getKey());
                String p = path + "." + e.getKey();
                if (back.isMissingNode() || back.isNull()) {
                    if (!e.getValue().isNull()) problems.add(id + ": " + p.substring(1) + " = " + e.getValue() + " is not a value of the schema");
                } else {
                    differences(e.getValue(), back, p, id, problems);
                }
            }
        } else if (written.isArray()) {
            for (int i = 0; i < written.size(); i++) differences(written.get(i), read.path(i), path + "[" + i + "]", id, problems);
        } else if (!written.equals(read) && !written.asText().equals(read.asText())) {
            problems.add(id + ": " + path.substring(1) + " = " + written + " is read as " + read);
        } else if (written.isTextual() != read.isTextual()) {
            problems.add(id + ": " + path.substring(1) + " = " + written + " has the wrong type (the schema says " + read.getNodeType() + ")");
        }
    }
}
