package org.imagingpipeline.deploy.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * NetworkPolicies select pods that exist and name their ports; the flows the pipeline needs are allowed:
 * every Kafka client can reach its listener, and every externally exposed Service port is admitted.
 */
final class NetworkPolicyChecks {
    private NetworkPolicyChecks() {
    }

    static List<String> check(Manifests m) {
        List<String> problems = new ArrayList<>();
        List<Manifests.PodShape> pods = m.pods();
        List<NetworkPolicy> policies = m.typed("NetworkPolicy", NetworkPolicy.class);
        for (NetworkPolicy np : policies) {
            String pn = "NetworkPolicy " + np.getMetadata().getName();
            List<Manifests.PodShape> selected = select(pods, np.getSpec().getPodSelector());
            if (selected.isEmpty()) problems.add(pn + ": podSelector " + np.getSpec().getPodSelector().getMatchLabels() + " selects no pod");
            for (NetworkPolicyIngressRule r : np.getSpec().getIngress()) {
                checkPeers(pn + " ingress", r.getFrom(), pods, problems);
                for (NetworkPolicyPort p : r.getPorts()) {
                    for (Manifests.PodShape pod : selected) {
                        if (!pod.hasPort(p.getPort())) problems.add(pn + ": ingress port " + WorkloadChecks.show(p.getPort())
                                + " is not a port of " + pod.owner());
                    }
                }
            }
            for (NetworkPolicyEgressRule r : np.getSpec().getEgress()) {
                List<Manifests.PodShape> to = checkPeers(pn + " egress", r.getTo(), pods, problems);
                for (NetworkPolicyPort p : r.getPorts()) {
                    boolean served = to.isEmpty() || to.stream().anyMatch(pod -> pod.hasPort(p.getPort()));
                    if (!served) problems.add(pn + ": egress port " + WorkloadChecks.show(p.getPort()) + " is served by none of its peers");
                }
            }
        }
        for (ObjectNode k : m.ofKind("Kafka")) {
            for (JsonNode l : k.path("spec").path("kafka").path("listeners")) {
                for (JsonNode peer : l.path("networkPolicyPeers")) {
                    if (peer.has("namespaceSelector") || !peer.has("podSelector")) continue;
                    Map<String, String> want = Manifests.matchLabels(peer.path("podSelector"));
                    if (select(pods, new LabelSelector(null, want)).isEmpty()) {
                        problems.add("Kafka " + Manifests.name(k) + " listener " + l.path("name").asText() + ": peer " + want + " selects no pod");
                    }
                }
            }
        }
        checkKafkaEgress(m, pods, policies, problems);
        checkExposedIngress(m, pods, policies, problems);
        checkReplicaRouting(m, pods, policies, problems);
        return problems;
    }

    /** Same-namespace podSelector peers must select pods; returns them (empty when the peers are external). */
    private static List<Manifests.PodShape> checkPeers(String where, List<NetworkPolicyPeer> peers, List<Manifests.PodShape> pods,
                                                       List<String> problems) {
        List<Manifests.PodShape> out = new ArrayList<>();
        for (NetworkPolicyPeer peer : peers) {
            if (peer.getNamespaceSelector() != null || peer.getIpBlock() != null || peer.getPodSelector() == null) continue;
            List<Manifests.PodShape> s = select(pods, peer.getPodSelector());
            if (s.isEmpty()) problems.add(where + ": peer " + peer.getPodSelector().getMatchLabels() + " selects no pod");
            out.addAll(s);
        }
        return out;
    }

    /** Each Deployment's pods may reach the Kafka listener their configuration names. */
    private static void checkKafkaEgress(Manifests m, List<Manifests.PodShape> pods, List<NetworkPolicy> policies, List<String> problems) {
        for (Deployment d : m.deployments()) {
            Map<String, String> labels = d.getSpec().getTemplate().getMetadata().getLabels();
            List<NetworkPolicy> egress = policies.stream()
                    .filter(np -> np.getSpec().getPolicyTypes().contains("Egress") && Manifests.selects(np.getSpec().getPodSelector(), labels))
                    .toList();
            if (egress.isEmpty()) continue;
            d.getSpec().getTemplate().getSpec().getContainers().stream().filter(ServiceConfig::isService)
                    .map(c -> ServiceConfig.of(m, d, c, new ArrayList<>())).flatMap(Optional::stream)
                    .flatMap(cfg -> cfg.endingWith("bootstrap.servers").stream())
                    .flatMap(v -> List.of(v.split(",")).stream()).map(m::listenerFor).flatMap(Optional::stream)
                    .forEach(l -> {
                        // A rule without ports allows every port; without peers, every destination.
                        boolean allowed = egress.stream().flatMap(np -> np.getSpec().getEgress().stream()).anyMatch(r ->
                                (r.getPorts().isEmpty() || r.getPorts().stream().anyMatch(p -> Integer.valueOf(l.port()).equals(p.getPort().getIntVal())))
                                        && (r.getTo().isEmpty() || r.getTo().stream().anyMatch(peer -> peer.getPodSelector() != null
                                        && peer.getNamespaceSelector() == null && select(pods, peer.getPodSelector()).stream()
                                        .anyMatch(pod -> pod.owner().startsWith("KafkaNodePool/") && pod.ports().contains(l.port())))));
                        if (!allowed) problems.add("Deployment " + d.getMetadata().getName() + ": no NetworkPolicy lets it reach Kafka listener "
                                + l.name() + " (" + l.port() + ")");
                    });
        }
    }

    /** Ports of LoadBalancer and NodePort Services (scanners, PACS) are admitted by an ingress rule. */
    private static void checkExposedIngress(Manifests m, List<Manifests.PodShape> pods, List<NetworkPolicy> policies, List<String> problems) {
        for (Service s : m.typed("Service", Service.class)) {
            String type = s.getSpec().getType();
            if (!"LoadBalancer".equals(type) && !"NodePort".equals(type)) continue;
            for (Manifests.PodShape pod : pods) {
                if (s.getSpec().getSelector() == null || !Manifests.selects(s.getSpec().getSelector(), pod.labels())) continue;
                List<NetworkPolicy> ingress = policies.stream().filter(np -> np.getSpec().getPolicyTypes().contains("Ingress")
                        && Manifests.selects(np.getSpec().getPodSelector(), pod.labels())).toList();
                if (ingress.isEmpty()) continue;
                for (ServicePort sp : s.getSpec().getPorts()) {
                    IntOrString target = sp.getTargetPort() != null ? sp.getTargetPort() : new IntOrString(sp.getPort());
                    Integer number = target.getStrVal() != null ? pod.namedPorts().get(target.getStrVal()) : target.getIntVal();
                    boolean admitted = ingress.stream().flatMap(np -> np.getSpec().getIngress().stream()).anyMatch(r -> r.getPorts().isEmpty()
                            || r.getPorts().stream().anyMatch(p -> number != null && number.equals(p.getPort().getStrVal() != null
                                    ? pod.namedPorts().get(p.getPort().getStrVal()) : p.getPort().getIntVal())));
                    if (!admitted) problems.add("Service " + s.getMetadata().getName() + ": exposed port " + sp.getName()
                            + " is admitted by no NetworkPolicy ingress rule of " + pod.owner());
                }
            }
        }
    }

    /**
     * A service whose replicas route requests to each other (streams: {@code streams.application-server}) needs a policy
     * admitting ingress from its own pods on its http port and one letting its pods reach them (egress).
     */
    private static void checkReplicaRouting(Manifests m, List<Manifests.PodShape> pods, List<NetworkPolicy> policies, List<String> problems) {
        for (Deployment d : m.deployments()) {
            boolean routes = d.getSpec().getTemplate().getSpec().getContainers().stream().filter(ServiceConfig::isService)
                    .map(c -> ServiceConfig.of(m, d, c, new ArrayList<>())).flatMap(Optional::stream)
                    .anyMatch(cfg -> cfg.get("streams.application-server") != null);
            if (!routes) continue;
            Map<String, String> labels = d.getSpec().getTemplate().getMetadata().getLabels();
            List<NetworkPolicy> mine = policies.stream().filter(np -> Manifests.selects(np.getSpec().getPodSelector(), labels)).toList();
            boolean in = mine.stream().filter(np -> np.getSpec().getPolicyTypes().contains("Ingress"))
                    .flatMap(np -> np.getSpec().getIngress().stream())
                    .anyMatch(r -> httpOrAny(r.getPorts()) && r.getFrom().stream().anyMatch(peer -> own(peer, labels)));
            boolean out = mine.stream().filter(np -> np.getSpec().getPolicyTypes().contains("Egress"))
                    .flatMap(np -> np.getSpec().getEgress().stream())
                    .anyMatch(r -> httpOrAny(r.getPorts()) && (r.getTo().isEmpty() || r.getTo().stream().anyMatch(peer -> own(peer, labels))));
            if (!in || !out) {
                problems.add("Deployment " + d.getMetadata().getName() + ": its replicas forward queries to each other, but no NetworkPolicy "
                        + (!in ? "admits ingress from its own pods" : "lets its pods reach each other (egress)") + " on port http");
            }
        }
    }

    private static boolean httpOrAny(List<NetworkPolicyPort> ports) {
        return ports.isEmpty() || ports.stream().anyMatch(p -> "http".equals(p.getPort().getStrVal()));
    }

    private static boolean own(NetworkPolicyPeer peer, Map<String, String> labels) {
        return peer.getPodSelector() != null && peer.getNamespaceSelector() == null && peer.getIpBlock() == null
                && Manifests.selects(peer.getPodSelector(), labels);
    }

    private static List<Manifests.PodShape> select(List<Manifests.PodShape> pods, LabelSelector selector) {
        return pods.stream().filter(p -> Manifests.selects(selector, p.labels())).toList();
    }
}
