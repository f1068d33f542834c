package org.imagingpipeline.testsupport.kafka;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.imagingpipeline.events.Topics;

/**
 * Who may do what on the pipeline's Kafka (issue 19, docs/security.md "Kafka"): one SCRAM principal per service and
 * per kind of tool, each allowed only the topics, consumer groups and transactional ids it needs. Everything not
 * listed is denied (the broker runs the KRaft {@code StandardAuthorizer} with {@code allow.everyone.if.no.acl.found}
 * off). The group names and the streams application id are the services' defaults ({@code *.kafka.group-id},
 * {@code quarkus.kafka-streams.application-id}); a deployment that renames them changes this table too.
 *
 * <p>The Strimzi {@code KafkaUser} resources under {@code deploy/k8s/base/kafka/users.yaml} carry the same grants
 * ({@code KubernetesManifestsTest} compares them).
 */
public final class KafkaAccess {
    /** The streams service's application id: prefix of its internal topics, its group and its transactional ids. */
    public static final String STREAMS_APPLICATION_ID = "imaging-streams";
    /** The transactional id prefix of {@code ./pipeline dlq replay} (kafka-support DeadLetterTopic). */
    public static final String DLQ_REPLAY_TRANSACTIONAL_PREFIX = "dlq-replay-";

    /** The principals (SCRAM user names; the broker sees them as {@code User:NAME}). */
    public static final String INGEST = "ingest";
    public static final String STREAMS = "streams";
    public static final String INFERENCE = "inference";
    public static final String RETRAIN = "retrain";
    public static final String FHIR_BRIDGE = "fhir-bridge";
    /** Read-only tools: the demo, the scenario tests, operators looking at topics and consumer lag. */
    public static final String CLI = "cli";
    /** {@code ./pipeline dlq list|replay}: reads dead letters, re-injects them into the topic they came from. */
    public static final String OPERATOR = "operator";

    public static final List<String> PRINCIPALS = List.of(INGEST, STREAMS, INFERENCE, RETRAIN, FHIR_BRIDGE, CLI, OPERATOR);

    private static final List<AclOperation> READ = List.of(AclOperation.READ, AclOperation.DESCRIBE);
    private static final List<AclOperation> WRITE = List.of(AclOperation.WRITE, AclOperation.DESCRIBE);

    /** One line of the table: a principal, a resource (literal name or prefix) and the operations allowed on it. */
    public record Grant(String principal, ResourceType type, String name, PatternType pattern, List<AclOperation> operations) {
        public List<AclBinding> bindings() {
            List<AclBinding> out = new ArrayList<>();
            for (AclOperation op : operations) {
                out.add(new AclBinding(new ResourcePattern(type, name, pattern),
                        new AccessControlEntry("User:" + principal, "*", op, AclPermissionType.ALLOW)));
            }
            return out;
        }
    }

    private KafkaAccess() {
    }

    /** The whole table. */
    public static List<Grant> grants() {
        List<Grant> g = new ArrayList<>();
        // ingest: publishes what it stored; records refused associations.
        topic(g, INGEST, WRITE, Topics.INSTANCES_RECEIVED, Topics.AUDIT_EVENTS);
        // ingest's DICOMweb index (QIDO-RS/WADO-RS): reads what was received and the SEGs inference produced, with assigned
        // partitions from the beginning and no consumer group (every instance builds the whole index), so no GROUP grant.
        topic(g, INGEST, READ, Topics.INSTANCES_RECEIVED, Topics.SEGMENTATION_RESULTS);

        // streams: series assembly and drift detection (exactly-once Kafka Streams) plus the approve endpoint's commands.
        topic(g, STREAMS, READ, Topics.INSTANCES_RECEIVED, Topics.DOMAIN_COMMANDS, Topics.DOMAIN_EVENTS, Topics.SERIES_READY,
                Topics.STREAMS_DLQ);
        topic(g, STREAMS, WRITE, Topics.SERIES_READY, Topics.DOMAIN_EVENTS, Topics.DOMAIN_COMMANDS, Topics.STREAMS_DLQ,
                Topics.AUDIT_EVENTS);
        // Its changelog and repartition topics: created, read, written, purged and described by Kafka Streams.
        g.add(new Grant(STREAMS, ResourceType.TOPIC, STREAMS_APPLICATION_ID + "-", PatternType.PREFIXED, List.of(AclOperation.ALL)));
        g.add(new Grant(STREAMS, ResourceType.GROUP, STREAMS_APPLICATION_ID, PatternType.PREFIXED, READ));
        g.add(new Grant(STREAMS, ResourceType.TRANSACTIONAL_ID, STREAMS_APPLICATION_ID + "-", PatternType.PREFIXED, WRITE));

        // inference: series in, results and failures out; the model registry in.
        topic(g, INFERENCE, READ, Topics.SERIES_READY, Topics.MODEL_VERSIONS);
        topic(g, INFERENCE, WRITE, Topics.SEGMENTATION_RESULTS, Topics.SEGMENTATION_DLQ, Topics.AUDIT_EVENTS);
        group(g, INFERENCE, "inference");

        // retrain: the registry's only writer; reads what it adapts to and the audit trail (GET /audit).
        topic(g, RETRAIN, READ, Topics.SERIES_READY, Topics.DOMAIN_EVENTS, Topics.MODEL_VERSIONS, Topics.AUDIT_EVENTS);
        topic(g, RETRAIN, WRITE, Topics.MODEL_VERSIONS, Topics.AUDIT_EVENTS);
        // ... and, after a promotion, sends the domain's past series again for the new model (PromotionReplay), naming
        // the report each one supersedes, read from the results topic.
        topic(g, RETRAIN, WRITE, Topics.SERIES_READY);
        topic(g, RETRAIN, READ, Topics.SEGMENTATION_RESULTS);
        group(g, RETRAIN, "retrain");

        // fhir-bridge: results in, undeliverable ones out.
        topic(g, FHIR_BRIDGE, READ, Topics.SEGMENTATION_RESULTS);
        topic(g, FHIR_BRIDGE, WRITE, Topics.EHR_DELIVERY_DLQ, Topics.AUDIT_EVENTS);
        group(g, FHIR_BRIDGE, "fhir-bridge");

        // cli: reads every topic and every group's offsets (lag), writes nothing.
        g.add(new Grant(CLI, ResourceType.TOPIC, ResourcePattern.WILDCARD_RESOURCE, PatternType.LITERAL, READ));
        g.add(new Grant(CLI, ResourceType.GROUP, ResourcePattern.WILDCARD_RESOURCE, PatternType.LITERAL, List.of(AclOperation.DESCRIBE)));

        // operator: the dead letters and their replay markers; replays go back to the topic a dead letter came from,
        // in a transaction with the marker.
        topic(g, OPERATOR, READ, Topics.STREAMS_DLQ, Topics.SEGMENTATION_DLQ, Topics.EHR_DELIVERY_DLQ, Topics.DLQ_REPLAYS);
        topic(g, OPERATOR, WRITE, Topics.DLQ_REPLAYS, Topics.INSTANCES_RECEIVED, Topics.SERIES_READY, Topics.DOMAIN_COMMANDS,
                Topics.SEGMENTATION_RESULTS);
        g.add(new Grant(OPERATOR, ResourceType.TRANSACTIONAL_ID, DLQ_REPLAY_TRANSACTIONAL_PREFIX, PatternType.PREFIXED, WRITE));
        return List.copyOf(g);
    }

    /** Every ACL binding of the table. */
    public static Set<AclBinding> bindings() {
        Set<AclBinding> out = new LinkedHashSet<>();
        for (Grant grant : grants()) out.addAll(grant.bindings());
        return out;
    }

    private static void topic(List<Grant> g, String principal, List<AclOperation> ops, String... topics) {
        for (String t : topics) g.add(new Grant(principal, ResourceType.TOPIC, t, PatternType.LITERAL, ops));
    }

    private static void group(List<Grant> g, String principal, String group) {
        g.add(new Grant(principal, ResourceType.GROUP, group, PatternType.LITERAL, READ));
    }
}
