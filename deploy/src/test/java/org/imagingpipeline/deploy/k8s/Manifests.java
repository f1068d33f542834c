package org.imagingpipeline.deploy.k8s;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The rendered objects of one overlay as a set: lookups by kind and name, typed views through fabric8's
 * Kubernetes model, and what the operators (Strimzi) and the site will create at run time.
 */
final class Manifests {
    /** Secrets created by the operator of the site before deploying (docs/operations.md), with their keys. */
    /** Secrets the operator creates before deploying (docs/operations.md, "Kubernetes"), with their keys. */
    static final Map<String, Set<String>> SITE_SECRETS = Map.of(
            "ingest-dicom-tls", Set.of("tls.crt", "tls.key", "ca.crt"),
            "token-verifier", Set.of("public-key.pem"),
            "model-signing", Set.of("private-key.pem", "public-key.pem"),
            "ehr-credentials", Set.of("bearer-token", "client-secret", "smart-private-key.pem"));
    static final Set<String> KAFKA_USER_SECRET_KEYS = Set.of("ca.crt", "user.crt", "user.key", "user.p12", "user.password");
    static final Set<String> CLUSTER_CA_SECRET_KEYS = Set.of("ca.crt", "ca.p12", "ca.password");

    /** A pod the manifests make: from a Deployment's template, or a Kafka node of a Strimzi node pool. */
    record PodShape(String owner, Map<String, String> labels, Map<String, Integer> namedPorts, Set<Integer> ports) {
        boolean hasPort(IntOrString p) {
            return p.getStrVal() != null ? namedPorts.containsKey(p.getStrVal()) : ports.contains(p.getIntVal());
        }
    }

    /** A Strimzi listener: what clients of the cluster connect to. */
    record Listener(String cluster, String name, int port, boolean tls, String authentication, JsonNode networkPolicyPeers) {
    }

    final List<ObjectNode> objects;
    final Path repoRoot;

    Manifests(List<ObjectNode> objects, Path repoRoot) {
        this.objects = objects;
        this.repoRoot = repoRoot;
    }

    List<ObjectNode> ofKind(String kind) {
        return objects.stream().filter(o -> o.path("kind").asText().equals(kind)).toList();
    }

    Optional<ObjectNode> find(String kind, String name) {
        return ofKind(kind).stream().filter(o -> name(o).equals(name)).findFirst();
    }

    static String name(JsonNode o) {
        return o.path("metadata").path("name").asText();
    }

    <T> T as(JsonNode o, Class<T> type) {
        try {
            return Kustomize.YAML.treeToValue(o, type);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(o.path("kind").asText() + " " + name(o) + " does not parse as "
                    + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }

    <T> List<T> typed(String kind, Class<T> type) {
        return ofKind(kind).stream().map(o -> as(o, type)).toList();
    }

    List<Deployment> deployments() {
        return typed("Deployment", Deployment.class);
    }

    Optional<ConfigMap> configMap(String name) {
        return find("ConfigMap", name).map(o -> as(o, ConfigMap.class));
    }

    /** Secret name -> keys, for every Secret that will exist: in the manifests, Strimzi's, and the site's own. */
    Map<String, Set<String>> secrets() {
        Map<String, Set<String>> s = new HashMap<>(SITE_SECRETS);
        for (Secret sec : typed("Secret", Secret.class)) {
            Set<String> keys = new LinkedHashSet<>();
            if (sec.getData() != null) keys.addAll(sec.getData().keySet());
            if (sec.getStringData() != null) keys.addAll(sec.getStringData().keySet());
            s.put(sec.getMetadata().getName(), keys);
        }
        for (ObjectNode u : ofKind("KafkaUser")) s.put(name(u), KAFKA_USER_SECRET_KEYS);
        for (ObjectNode k : ofKind("Kafka")) s.put(name(k) + "-cluster-ca-cert", CLUSTER_CA_SECRET_KEYS);
        return s;
    }

    List<Listener> listeners() {
        List<Listener> out = new ArrayList<>();
        for (ObjectNode k : ofKind("Kafka")) {
            for (JsonNode l : k.path("spec").path("kafka").path("listeners")) {
                out.add(new Listener(name(k), l.path("name").asText(), l.path("port").asInt(), l.path("tls").asBoolean(),
                        l.path("authentication").path("type").asText(null), l.path("networkPolicyPeers")));
            }
        }
        return out;
    }

    /** The listener a bootstrap address (CLUSTER-kafka-bootstrap[.ns.svc...]:PORT) names, if any. */
    Optional<Listener> listenerFor(String address) {
        String a = address.trim();
        int colon = a.lastIndexOf(':');
        if (colon < 0) return Optional.empty();
        String host = a.substring(0, colon).split("\\.")[0];
        String port = a.substring(colon + 1);
        return listeners().stream()
                .filter(l -> host.equals(l.cluster() + "-kafka-bootstrap") && port.equals(Integer.toString(l.port())))
                .findFirst();
    }

    /** Pods of the Deployments, and of the Kafka node pools with the labels Strimzi gives them. */
    List<PodShape> pods() {
        List<PodShape> out = new ArrayList<>();
        for (Deployment d : deployments()) {
            Map<String, Integer> named = new LinkedHashMap<>();
            Set<Integer> ports = new LinkedHashSet<>();
            for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
                for (ContainerPort p : c.getPorts()) {
                    ports.add(p.getContainerPort());
                    if (p.getName() != null) named.put(p.getName(), p.getContainerPort());
                }
            }
            out.add(new PodShape("Deployment/" + d.getMetadata().getName(), labels(d.getSpec().getTemplate().getMetadata().getLabels()),
                    named, ports));
        }
        for (ObjectNode pool : ofKind("KafkaNodePool")) {
            String cluster = pool.path("metadata").path("labels").path("strimzi.io/cluster").asText();
            Set<String> roles = new LinkedHashSet<>();
            pool.path("spec").path("roles").forEach(r -> roles.add(r.asText()));
            Map<String, String> labels = new LinkedHashMap<>();
            labels.put("strimzi.io/cluster", cluster);
            labels.put("strimzi.io/kind", "Kafka");
            labels.put("strimzi.io/name", cluster + "-kafka");
            labels.put("strimzi.io/pool-name", name(pool));
            labels.put("strimzi.io/broker-role", Boolean.toString(roles.contains("broker")));
            labels.put("strimzi.io/controller-role", Boolean.toString(roles.contains("controller")));
            Set<Integer> ports = new LinkedHashSet<>();
            if (roles.contains("broker")) {
                listeners().stream().filter(l -> l.cluster().equals(cluster)).forEach(l -> ports.add(l.port()));
            }
            out.add(new PodShape("KafkaNodePool/" + name(pool), labels, Map.of(), ports));
        }
        return out;
    }

    static boolean selects(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) return false;
        if (selector.getMatchExpressions() != null && !selector.getMatchExpressions().isEmpty()) {
            throw new IllegalArgumentException("matchExpressions are not checked here; use matchLabels");
        }
        return selects(selector.getMatchLabels(), labels);
    }

    static boolean selects(Map<String, String> matchLabels, Map<String, String> labels) {
        return matchLabels == null || labels.entrySet().containsAll(matchLabels.entrySet());
    }

    /** matchLabels of a podSelector given as JSON (Strimzi's networkPolicyPeers). */
    static Map<String, String> matchLabels(JsonNode podSelector) {
        Map<String, String> want = new LinkedHashMap<>();
        podSelector.path("matchLabels").fields().forEachRemaining(e -> want.put(e.getKey(), e.getValue().asText()));
        return want;
    }

    private static Map<String, String> labels(Map<String, String> l) {
        return l == null ? Map.of() : l;
    }
}
