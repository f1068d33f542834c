package org.imagingpipeline.deploy.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.imagingpipeline.events.TopicSpec;
import org.imagingpipeline.events.Topics;

/**
 * KEDA ScaledObjects: the target Deployment exists and leaves its replica count to KEDA; each kafka trigger
 * names a topic the catalogue says the service consumes, the service's own consumer group, a listener, and
 * TLS material that exists; maxReplicaCount stays within the topic's partitions.
 */
final class AutoscalingChecks {
    /**
     * Consumer groups of services whose configuration does not name one yet (inference and retrain were being
     * built when these manifests were written): the names agreed with them.
     */
    static final Map<String, String> AGREED_GROUPS = Map.of("inference", "inference", "retrain", "retrain");
    /** Keys that name a service's consumer group (Kafka Streams: the application id). */
    static final List<String> GROUP_KEYS = List.of("quarkus.kafka-streams.application-id", "bridge.kafka.group-id");

    private AutoscalingChecks() {
    }

    static List<String> check(Manifests m) {
        List<String> problems = new ArrayList<>();
        Map<String, Set<String>> secrets = m.secrets();
        for (ObjectNode ta : m.ofKind("TriggerAuthentication")) {
            for (JsonNode ref : ta.path("spec").path("secretTargetRef")) {
                Set<String> keys = secrets.get(ref.path("name").asText());
                if (keys == null || !keys.contains(ref.path("key").asText())) {
                    problems.add("TriggerAuthentication " + Manifests.name(ta) + ": parameter " + ref.path("parameter").asText()
                            + " reads key " + ref.path("key").asText() + " of Secret " + ref.path("name").asText() + ", which nothing creates");
                }
            }
        }
        Set<String> scaled = new HashSet<>();
        for (ObjectNode so : m.ofKind("ScaledObject")) {
            String sn = "ScaledObject " + Manifests.name(so);
            JsonNode spec = so.path("spec");
            String target = spec.path("scaleTargetRef").path("name").asText();
            String targetKind = spec.path("scaleTargetRef").path("kind").asText("Deployment");
            Optional<Deployment> d = m.find(targetKind, target).map(o -> m.as(o, Deployment.class));
            if (!targetKind.equals("Deployment") || d.isEmpty()) {
                problems.add(sn + ": scales " + targetKind + " " + target + ", which does not exist");
                continue;
            }
            if (!scaled.add(target)) problems.add(sn + ": Deployment " + target + " is scaled by two ScaledObjects");
            if (d.get().getSpec().getReplicas() != null) {
                problems.add(sn + ": Deployment " + target + " sets replicas; every apply would reset what KEDA chose");
            }
            int max = spec.path("maxReplicaCount").asInt(100);
            if (spec.path("minReplicaCount").asInt(0) > max) problems.add(sn + ": minReplicaCount > maxReplicaCount");
            Optional<String> group = consumerGroup(m, d.get(), problems);
            for (JsonNode trigger : spec.path("triggers")) {
                if (trigger.path("type").asText().equals("kafka")) checkKafkaTrigger(m, sn, target, trigger, max, group, problems);
                else problems.add(sn + ": trigger type " + trigger.path("type").asText() + " is not checked here");
            }
        }
        return problems;
    }

    private static void checkKafkaTrigger(Manifests m, String sn, String target, JsonNode trigger, int max, Optional<String> group,
                                          List<String> problems) {
        JsonNode md = trigger.path("metadata");
        String topic = md.path("topic").asText();
        Optional<TopicSpec> spec = Topics.byName(topic);
        boolean hasResource = m.ofKind("KafkaTopic").stream()
                .anyMatch(t -> t.path("spec").path("topicName").asText(Manifests.name(t)).equals(topic));
        if (spec.isEmpty() || !hasResource) {
            problems.add(sn + ": topic '" + topic + "' is not a KafkaTopic of the catalogue");
        } else {
            if (!Arrays.asList(spec.get().consumers().split("[,\\s]+")).contains(target)) {
                problems.add(sn + ": the catalogue lists " + spec.get().consumers() + " as consumers of " + topic + ", not " + target);
            }
            if (max > spec.get().partitions()) {
                problems.add(sn + ": maxReplicaCount " + max + " exceeds the " + spec.get().partitions() + " partitions of " + topic);
            }
        }
        String cg = md.path("consumerGroup").asText();
        group.filter(g -> !g.equals(cg)).ifPresent(g ->
                problems.add(sn + ": consumerGroup '" + cg + "' but Deployment " + target + " consumes as group '" + g + "'"));
        Optional<Manifests.Listener> l = m.listenerFor(md.path("bootstrapServers").asText());
        if (l.isEmpty()) {
            problems.add(sn + ": bootstrapServers " + md.path("bootstrapServers").asText() + " is no listener of a Kafka here");
            return;
        }
        boolean tls = "enable".equals(md.path("tls").asText());
        if (tls != l.get().tls()) problems.add(sn + ": tls=" + md.path("tls").asText() + " against listener " + l.get().name());
        if (l.get().tls()) {
            String authName = trigger.path("authenticationRef").path("name").asText();
            Optional<ObjectNode> auth = m.find("TriggerAuthentication", authName);
            Set<String> params = new HashSet<>();
            auth.ifPresent(a -> a.path("spec").path("secretTargetRef").forEach(r -> params.add(r.path("parameter").asText())));
            Set<String> need = "tls".equals(l.get().authentication()) ? Set.of("ca", "cert", "key") : Set.of("ca");
            if (!params.containsAll(need)) {
                problems.add(sn + ": TriggerAuthentication '" + authName + "' must give " + need + " for listener " + l.get().name());
            }
        }
    }

    /** The group a Deployment's service consumes as: from its configuration, else the agreed name. */
    static Optional<String> consumerGroup(Manifests m, Deployment d, List<String> problems) {
        for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
            if (!ServiceConfig.isService(c)) continue;
            Optional<ServiceConfig> cfg = ServiceConfig.of(m, d, c, new ArrayList<>());
            if (cfg.isEmpty()) continue;
            for (String k : GROUP_KEYS) {
                if (cfg.get().get(k) != null) return Optional.of(cfg.get().get(k));
            }
            if (AGREED_GROUPS.containsKey(cfg.get().module)) return Optional.of(AGREED_GROUPS.get(cfg.get().module));
        }
        problems.add("Deployment " + d.getMetadata().getName() + ": cannot tell its consumer group");
        return Optional.empty();
    }
}
