package org.imagingpipeline.deploy.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.imagingpipeline.testsupport.kafka.KafkaAccess;

/**
 * Kafka authorization: the Kafka resource enables simple authorization and has no listener without TLS and
 * authentication; each KafkaUser's ACLs are exactly the grants of test-support's {@link KafkaAccess} for the principal of
 * that name (the local stack's table), or, for the identity KEDA's TriggerAuthentication uses, Describe on the groups and
 * topics its ScaledObjects read.
 */
final class KafkaAclChecks {
    /** The name Kafka gives the cluster resource (Strimzi's cluster rules have none). */
    private static final String CLUSTER_NAME = "kafka-cluster";

    /** One allowed operation on a resource, as the broker stores it (host *, permission ALLOW). */
    record Acl(ResourceType type, String name, PatternType pattern, AclOperation operation) implements Comparable<Acl> {
        @Override
        public int compareTo(Acl o) {
            return toString().compareTo(o.toString());
        }

        @Override
        public String toString() {
            return type + ":" + name + (pattern == PatternType.LITERAL ? "" : "(" + pattern + ")") + " " + operation;
        }
    }

    private KafkaAclChecks() {
    }

    static List<String> check(Manifests m) {
        List<String> problems = new ArrayList<>();
        for (ObjectNode k : m.ofKind("Kafka")) {
            String kn = "Kafka " + Manifests.name(k);
            String authz = k.path("spec").path("kafka").path("authorization").path("type").asText();
            if (!authz.equals("simple")) {
                problems.add(kn + ": authorization is '" + authz + "', not simple: the KafkaUsers' ACLs would not be enforced");
            }
        }
        for (Manifests.Listener l : m.listeners()) {
            if (!l.tls() || l.authentication() == null) {
                problems.add("Kafka " + l.cluster() + " listener " + l.name() + ": every listener needs TLS and authentication, this one has tls="
                        + l.tls() + ", authentication=" + l.authentication());
            }
        }
        Map<String, Set<Acl>> scaler = scalerGrants(m, problems);
        Set<String> users = new TreeSet<>();
        for (ObjectNode u : m.ofKind("KafkaUser")) {
            String name = Manifests.name(u);
            users.add(name);
            Set<Acl> want;
            String source;
            if (KafkaAccess.PRINCIPALS.contains(name)) {
                want = expected(name);
                source = "KafkaAccess.grants()";
            } else if (scaler.containsKey(name)) {
                want = scaler.get(name);
                source = "what KEDA's ScaledObjects read";
            } else {
                problems.add("KafkaUser " + name + ": neither a principal of KafkaAccess " + KafkaAccess.PRINCIPALS
                        + " nor the identity of a KEDA TriggerAuthentication: no grants to compare its ACLs with");
                continue;
            }
            Set<Acl> have = acls(u, problems);
            if (!have.equals(want)) problems.add(difference("KafkaUser " + name, source, have, want));
        }
        for (String p : KafkaAccess.PRINCIPALS) {
            if (!users.contains(p)) problems.add("KafkaAccess principal " + p + " has no KafkaUser");
        }
        return problems;
    }

    /** What KafkaAccess.grants() allows the principal. */
    static Set<Acl> expected(String principal) {
        Set<Acl> out = new TreeSet<>();
        for (KafkaAccess.Grant g : KafkaAccess.grants()) {
            if (!g.principal().equals(principal)) continue;
            for (AclOperation op : g.operations()) out.add(new Acl(g.type(), g.name(), g.pattern(), op));
        }
        return out;
    }

    /** The ACLs of a KafkaUser (spec.authorization.acls, Strimzi's AclRule format); unreadable rules go to problems. */
    static Set<Acl> acls(ObjectNode user, List<String> problems) {
        String un = "KafkaUser " + Manifests.name(user);
        Set<Acl> out = new TreeSet<>();
        JsonNode authz = user.path("spec").path("authorization");
        if (!authz.path("type").asText().equals("simple")) {
            problems.add(un + ": authorization type '" + authz.path("type").asText() + "', not simple");
            return out;
        }
        for (JsonNode rule : authz.path("acls")) {
            if (!rule.path("type").asText("allow").equals("allow") || !rule.path("host").asText("*").equals("*")) {
                problems.add(un + ": rule " + rule + " is not an allow rule for every host");
                continue;
            }
            JsonNode r = rule.path("resource");
            ResourceType type = switch (r.path("type").asText()) {
                case "topic" -> ResourceType.TOPIC;
                case "group" -> ResourceType.GROUP;
                case "transactionalId" -> ResourceType.TRANSACTIONAL_ID;
                case "cluster" -> ResourceType.CLUSTER;
                default -> null;
            };
            PatternType pattern = switch (r.path("patternType").asText("literal")) {
                case "literal" -> PatternType.LITERAL;
                case "prefix" -> PatternType.PREFIXED;
                default -> null;
            };
            String name = type == ResourceType.CLUSTER ? CLUSTER_NAME : r.path("name").asText(null);
            if (type == null || pattern == null || name == null) {
                problems.add(un + ": resource " + r + " is not a topic, group, transactionalId or cluster with a literal or prefix name");
                continue;
            }
            List<JsonNode> ops = new ArrayList<>();
            rule.path("operations").forEach(ops::add);
            if (rule.has("operation")) ops.add(rule.path("operation"));
            if (ops.isEmpty()) problems.add(un + ": rule " + rule + " allows no operation");
            for (JsonNode op : ops) {
                Optional<AclOperation> o = operation(op.asText());
                if (o.isEmpty()) problems.add(un + ": operation '" + op.asText() + "' is none of Kafka's");
                else out.add(new Acl(type, name, pattern, o.get()));
            }
        }
        return out;
    }

    /** Strimzi's operation names are Kafka's in camel case: IdempotentWrite = IDEMPOTENT_WRITE. */
    private static Optional<AclOperation> operation(String strimzi) {
        String constant = strimzi.replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
        try {
            AclOperation op = AclOperation.valueOf(constant);
            return op == AclOperation.ANY || op == AclOperation.UNKNOWN ? Optional.empty() : Optional.of(op);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * KEDA's identities: the KafkaUser whose certificate a TriggerAuthentication hands to the scaler (parameter cert), and
     * what its ScaledObjects read: the committed offsets of each trigger's consumer group and the end offsets of its topic,
     * Describe on both.
     */
    static Map<String, Set<Acl>> scalerGrants(Manifests m, List<String> problems) {
        Map<String, String> userOfAuth = new LinkedHashMap<>();
        for (ObjectNode ta : m.ofKind("TriggerAuthentication")) {
            for (JsonNode ref : ta.path("spec").path("secretTargetRef")) {
                if (ref.path("parameter").asText().equals("cert")) userOfAuth.put(Manifests.name(ta), ref.path("name").asText());
            }
        }
        Map<String, Set<Acl>> out = new LinkedHashMap<>();
        userOfAuth.values().forEach(u -> out.put(u, new TreeSet<>()));
        for (ObjectNode so : m.ofKind("ScaledObject")) {
            for (JsonNode t : so.path("spec").path("triggers")) {
                if (!t.path("type").asText().equals("kafka")) continue;
                String user = userOfAuth.get(t.path("authenticationRef").path("name").asText());
                if (user == null) {
                    problems.add("ScaledObject " + Manifests.name(so) + ": its kafka trigger authenticates as no KafkaUser");
                    continue;
                }
                JsonNode md = t.path("metadata");
                out.get(user).add(new Acl(ResourceType.GROUP, md.path("consumerGroup").asText(), PatternType.LITERAL, AclOperation.DESCRIBE));
                out.get(user).add(new Acl(ResourceType.TOPIC, md.path("topic").asText(), PatternType.LITERAL, AclOperation.DESCRIBE));
            }
        }
        return out;
    }

    static String difference(String who, String source, Set<Acl> have, Set<Acl> want) {
        Set<Acl> extra = new TreeSet<>(have);
        extra.removeAll(want);
        Set<Acl> missing = new TreeSet<>(want);
        missing.removeAll(have);
        return who + ": ACLs differ from " + source + "; allowed beyond them " + extra + ", missing " + missing;
    }
}
