package org.imagingpipeline.deploy.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.imagingpipeline.events.TopicSpec;
import org.imagingpipeline.events.Topics;

/**
 * Strimzi resources against each other and against events' Topics catalogue, and every service's Kafka
 * client settings against the listener it names (TLS material mounted, its own KafkaUser's keystore and password,
 * admitted by the listener's peers). ACLs and authorization: KafkaAclChecks.
 */
final class KafkaChecks {
    private KafkaChecks() {
    }

    static List<String> check(Manifests m) {
        List<String> problems = new ArrayList<>();
        Set<String> clusters = m.ofKind("Kafka").stream().map(Manifests::name).collect(Collectors.toSet());
        if (clusters.isEmpty()) problems.add("no Kafka resource");
        Map<String, Integer> brokers = new LinkedHashMap<>();
        Map<String, Integer> controllers = new LinkedHashMap<>();
        for (ObjectNode pool : m.ofKind("KafkaNodePool")) {
            String cluster = clusterOf(pool, clusters, problems);
            Set<String> roles = new TreeSet<>();
            pool.path("spec").path("roles").forEach(r -> roles.add(r.asText()));
            int replicas = pool.path("spec").path("replicas").asInt();
            if (roles.contains("broker")) brokers.merge(cluster, replicas, Integer::sum);
            if (roles.contains("controller")) controllers.merge(cluster, replicas, Integer::sum);
        }
        for (String c : clusters) {
            if (brokers.getOrDefault(c, 0) < 1) problems.add("Kafka " + c + ": no KafkaNodePool with the broker role");
            if (controllers.getOrDefault(c, 0) % 2 == 0) problems.add("Kafka " + c + ": KRaft needs an odd number of controllers, has "
                    + controllers.getOrDefault(c, 0));
        }
        checkTopics(m, clusters, brokers, problems);
        for (ObjectNode u : m.ofKind("KafkaUser")) {
            String cluster = clusterOf(u, clusters, problems);
            String auth = u.path("spec").path("authentication").path("type").asText();
            boolean listenerTakesIt = m.listeners().stream().anyMatch(l -> l.cluster().equals(cluster) && auth.equals(l.authentication()));
            if (!listenerTakesIt) problems.add("KafkaUser " + Manifests.name(u) + ": no listener of " + cluster + " authenticates by " + auth);
        }
        for (Deployment d : m.deployments()) {
            for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
                if (!ServiceConfig.isService(c)) continue;
                ServiceConfig.of(m, d, c, new ArrayList<>()).ifPresent(cfg -> checkClient(m, d, c, cfg, problems));
            }
        }
        return problems;
    }

    private static String clusterOf(ObjectNode o, Set<String> clusters, List<String> problems) {
        String c = o.path("metadata").path("labels").path("strimzi.io/cluster").asText();
        if (!clusters.contains(c)) problems.add(o.path("kind").asText() + " " + Manifests.name(o) + ": strimzi.io/cluster '" + c + "' is no Kafka here");
        return c;
    }

    /** KafkaTopics = Topics.ALL: names, partitions, configs (TopicSpec#configs(replicas): min.insync.replicas replicas - 1). */
    private static void checkTopics(Manifests m, Set<String> clusters, Map<String, Integer> brokers, List<String> problems) {
        Map<String, ObjectNode> byTopic = new TreeMap<>();
        for (ObjectNode t : m.ofKind("KafkaTopic")) {
            String cluster = clusterOf(t, clusters, problems);
            String name = t.path("spec").path("topicName").asText(Manifests.name(t));
            if (byTopic.put(name, t) != null) problems.add("KafkaTopic " + name + ": defined twice");
            int replicas = t.path("spec").path("replicas").asInt();
            if (replicas > brokers.getOrDefault(cluster, 0)) problems.add("KafkaTopic " + name + ": " + replicas + " replicas, "
                    + brokers.getOrDefault(cluster, 0) + " brokers");
        }
        Set<String> catalogue = Topics.ALL.stream().map(TopicSpec::name).collect(Collectors.toCollection(TreeSet::new));
        if (!byTopic.keySet().equals(catalogue)) {
            problems.add("KafkaTopics " + byTopic.keySet() + " differ from the Topics catalogue " + catalogue);
        }
        for (TopicSpec spec : Topics.ALL) {
            ObjectNode t = byTopic.get(spec.name());
            if (t == null) continue;
            JsonNode s = t.path("spec");
            if (s.path("partitions").asInt() != spec.partitions()) {
                problems.add("KafkaTopic " + spec.name() + ": " + s.path("partitions").asInt() + " partitions, the catalogue says " + spec.partitions());
            }
            Map<String, String> want = new TreeMap<>(spec.configs(Math.max(1, s.path("replicas").asInt())));
            Map<String, String> have = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = s.path("config").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                have.put(e.getKey(), e.getValue().asText());
            }
            if (!have.equals(want)) problems.add("KafkaTopic " + spec.name() + ": config " + have + ", the catalogue gives " + want);
        }
    }

    private static void checkClient(Manifests m, Deployment d, Container c, ServiceConfig cfg, List<String> problems) {
        String cn = "Deployment " + d.getMetadata().getName();
        List<String> addresses = new ArrayList<>();
        cfg.endingWith("bootstrap.servers").forEach(v -> addresses.addAll(List.of(v.split(","))));
        cfg.endingWith("bootstrap-servers").forEach(v -> addresses.addAll(List.of(v.split(","))));
        for (String a : addresses) {
            Optional<Manifests.Listener> l = m.listenerFor(a);
            if (l.isEmpty()) {
                problems.add(cn + ": Kafka address " + a.trim() + " is no listener of a Kafka here");
                continue;
            }
            Map<String, String> podLabels = d.getSpec().getTemplate().getMetadata().getLabels();
            if (!admits(l.get().networkPolicyPeers(), podLabels)) {
                problems.add(cn + ": listener " + l.get().name() + " (" + a.trim() + ") does not admit its pods (networkPolicyPeers)");
            }
            if (l.get().tls()) checkTls(m, d, c, cfg, l.get(), cn, problems);
            else if (cfg.endingWith("security.protocol").stream().anyMatch(p -> p.contains("SSL"))) {
                problems.add(cn + ": security.protocol SSL against the plain listener " + l.get().name());
            }
        }
    }

    private static void checkTls(Manifests m, Deployment d, Container c, ServiceConfig cfg, Manifests.Listener l, String cn,
                                 List<String> problems) {
        // Every client setting must be TLS, kafka.* included: kafka-support's clients (the audit log, streams' approval
        // commands) take kafka.* alone, whatever a service's own prefix (bridge.kafka.client.*, kafka-streams.*) says.
        List<String> protocols = cfg.endingWith("security.protocol");
        if (protocols.isEmpty() || protocols.stream().anyMatch(p -> !p.equals("SSL") && !p.equals("SASL_SSL"))
                || !List.of("SSL", "SASL_SSL").contains(String.valueOf(cfg.get("kafka.security.protocol")))) {
            problems.add(cn + ": the " + l.name() + " listener is TLS but security.protocol is not SSL (every prefix, kafka.* included)");
        }
        expectSecretFile(d, c, cfg, "ssl.truststore.location", Set.of(l.cluster() + "-cluster-ca-cert"), cn, problems);
        if ("tls".equals(l.authentication())) {
            // The service's own identity: the KafkaUser named after its principal (KafkaAccess), whose ACLs KafkaAclChecks
            // compares with the principal's grants. Another user's keystore would run the service with someone else's rights.
            String principal = cfg.module;
            if (m.find("KafkaUser", principal).isEmpty()) problems.add(cn + ": no KafkaUser " + principal + " for its Kafka identity");
            expectSecretFile(d, c, cfg, "ssl.keystore.location", Set.of(principal), cn, problems);
            expectKeystorePassword(d, c, cfg, principal, cn, problems);
        }
    }

    /** A PKCS12 keystore's password: ${ENV} of a container variable from the same user Secret's user.password, never inline. */
    private static void expectKeystorePassword(Deployment d, Container c, ServiceConfig cfg, String user, String cn, List<String> problems) {
        for (String password : cfg.endingWith("ssl.keystore.password")) {
            if (!password.startsWith("${env:") || !password.endsWith("}")) {
                problems.add(cn + ": ssl.keystore.password is written into the configuration; take it from Secret " + user
                        + " key user.password through an environment variable");
                continue;
            }
            String var = password.substring("${env:".length(), password.length() - 1);
            boolean fromSecret = c.getEnv().stream().anyMatch(e -> e.getName().equals(var) && e.getValueFrom() != null
                    && e.getValueFrom().getSecretKeyRef() != null && user.equals(e.getValueFrom().getSecretKeyRef().getName())
                    && "user.password".equals(e.getValueFrom().getSecretKeyRef().getKey()));
            if (!fromSecret) problems.add(cn + ": ssl.keystore.password ${" + var + "} is not key user.password of Secret " + user);
        }
    }

    /** The file a key names lies in a mounted Secret from the allowed set, under one of that Secret's keys. */
    private static void expectSecretFile(Deployment d, Container c, ServiceConfig cfg, String suffix, Set<String> allowed, String cn,
                                         List<String> problems) {
        List<String> files = cfg.endingWith(suffix);
        if (files.isEmpty()) {
            problems.add(cn + ": no " + suffix + " for the TLS listener");
            return;
        }
        for (String f : files) {
            Optional<VolumeMount> vm = c.getVolumeMounts().stream().filter(x -> f.startsWith(x.getMountPath() + "/")).findFirst();
            Optional<Volume> v = vm.flatMap(x -> d.getSpec().getTemplate().getSpec().getVolumes().stream()
                    .filter(y -> y.getName().equals(x.getName())).findFirst());
            if (v.isEmpty() || v.get().getSecret() == null || !allowed.contains(v.get().getSecret().getSecretName())) {
                problems.add(cn + ": " + suffix + " " + f + " is not in a mounted Secret of " + allowed);
                continue;
            }
            String key = f.substring(vm.get().getMountPath().length() + 1);
            String secret = v.get().getSecret().getSecretName();
            Set<String> keys = secret.endsWith("-cluster-ca-cert") ? Manifests.CLUSTER_CA_SECRET_KEYS : Manifests.KAFKA_USER_SECRET_KEYS;
            if (!keys.contains(key)) problems.add(cn + ": " + suffix + " " + f + ": Secret " + secret + " has no key " + key);
        }
    }

    /** Strimzi listener peers: none = open; otherwise a same-namespace podSelector must match the pod. */
    static boolean admits(JsonNode peers, Map<String, String> podLabels) {
        if (peers == null || peers.isMissingNode() || peers.isEmpty()) return true;
        for (JsonNode p : peers) {
            if (p.has("namespaceSelector") || p.has("ipBlock") || !p.has("podSelector")) continue;
            if (Manifests.selects(Manifests.matchLabels(p.path("podSelector")), podLabels)) return true;
        }
        return false;
    }
}
