package org.imagingpipeline.deploy.k8s;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.introspect.Annotated;
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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The offline schema check: every rendered object is read into the typed model of its {@code apiVersion} and
 * {@code kind} - fabric8's Kubernetes model for the built-in kinds, Strimzi's own model classes ({@code io.strimzi:api})
 * for its custom resources - and written back; every difference between what was written and what comes back is named
 * with its path: a field the schema does not have (the models keep those aside as "additional properties", which the
 * read-back leaves out) - a misspelt field the API server would prune or refuse -, a value outside an enum (read as
 * null), a value of the wrong type (a string where the API wants an integer).
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

    /**
     * Reads an object back from its model writing every property, defaults and empty ones too (the models leave those
     * out), but not the fields the model did not know (kept aside in an any-setter map): those are then missing.
     */
    private static final ObjectMapper READ_BACK = Kustomize.YAML.copy().setAnnotationIntrospector(new JacksonAnnotationIntrospector() {
        @Override
        public JsonInclude.Value findPropertyInclusion(Annotated a) {
            return JsonInclude.Value.construct(JsonInclude.Include.ALWAYS, JsonInclude.Include.ALWAYS);
        }

        @Override
        public Boolean hasAnyGetter(Annotated a) {
            return Boolean.FALSE;
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
            JsonNode read;
            try {
                read = READ_BACK.valueToTree(Kustomize.YAML.treeToValue(o, model));
            } catch (Exception e) {
                problems.add(id + ": does not match the " + type + " schema: " + e.getMessage().lines().findFirst().orElse(""));
                continue;
            }
            differences(o, read, "", id, problems);
        }
        return problems;
    }

    /**
     * Where the object read back from its model differs from what was written: a field the schema does not have (missing
     * on the way back), a value the model could not hold (an unknown enum constant read as null), a value of the wrong
     * type (a string where the schema has a number).
     */
    private static void differences(JsonNode written, JsonNode read, String path, String id, List<String> problems) {
        if (written.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = written.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode back = read.path(e.getKey());
                String p = (path + "." + e.getKey()).substring(1);
                if (back.isMissingNode()) {
                    problems.add(id + ": unknown field " + p + " (not in the schema)");
                } else if (back.isNull()) {
                    if (!e.getValue().isNull()) problems.add(id + ": " + p + " = " + e.getValue() + " is not a value of the schema");
                } else {
                    differences(e.getValue(), back, path + "." + e.getKey(), id, problems);
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
