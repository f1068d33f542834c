package org.imagingpipeline.testsupport.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.testsupport.KraftCluster;
import org.imagingpipeline.testsupport.TopicProvisioner;
import org.imagingpipeline.events.TopicSpec;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kafka as {@code ./pipeline up --brokers 3} runs it (issue 19 item 2, issue 16 item 3): three real KRaft nodes, each
 * with a SASL_SSL client listener, the StandardAuthorizer and the ACLs of {@link KafkaAccess} (cluster metadata, so the
 * same on every node), provisioned by {@link AccessProvisioner}; three replicas per topic, min.insync.replicas 2. A
 * client without credentials, with the wrong password or without SASL can do nothing; each principal can do its job
 * and nothing the table does not give it; and when a node is killed, writes with acks=all go on and nothing
 * acknowledged is lost. (The single secured node of a plain {@code ./pipeline up} is the same KraftBroker
 * configuration without the cluster options; every end-to-end scenario runs on it.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecuredBrokerTest {
    private static Path dir;
    private static KraftCluster broker;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("secured-cluster");
        long t0 = System.nanoTime();
        broker = KraftCluster.startWithTopics(dir.resolve("kafka"), 3, dir.resolve("secrets"));
        lap("three secured nodes up, topics, users and ACLs provisioned", t0);
    }

    @AfterAll
    static void stop() throws Exception {
        if (broker != null) broker.close();
    }

    @Test
    void secretsAreOwnerOnly() throws Exception {
        KafkaSecrets s = broker.secrets();
        for (Path f : List.of(s.passwordFile(KafkaAccess.INFERENCE), s.clientPropertiesFile(KafkaAccess.CLI),
                s.quarkusPropertiesFile(KafkaAccess.STREAMS), s.brokerKeystore(), s.adminKeystore())) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(s.folder())));
        // A second ensure keeps every password (the broker's SCRAM credentials stay valid).
        String before = s.password(KafkaAccess.RETRAIN);
        KafkaSecrets.ensure(dir.resolve("secrets"));
        assertEquals(before, s.password(KafkaAccess.RETRAIN));
    }

    @Test
    void aClientWithoutCredentialsCanDoNothing() {
        Map<String, String> plain = Map.of("bootstrap.servers", broker.bootstrap());
        ExecutionException e = assertThrows(ExecutionException.class, () -> listTopics(plain));
        assertInstanceOf(TimeoutException.class, e.getCause(), "a plaintext client gets no answer: " + e.getCause());
        Map<String, String> tlsOnly = new HashMap<>(plain);
        tlsOnly.put("security.protocol", "SSL");
        tlsOnly.put("ssl.truststore.type", "PEM");
        tlsOnly.put("ssl.truststore.location", broker.secrets().caFile().toString());
        e = assertThrows(ExecutionException.class, () -> listTopics(tlsOnly));
        assertInstanceOf(TimeoutException.class, e.getCause(), "TLS without SASL gets no answer: " + e.getCause());
    }

    @Test
    void aWrongPasswordIsRefused() {
        Map<String, String> p = new HashMap<>(broker.clientProperties(KafkaAccess.RETRAIN));
        p.putAll(broker.secrets().clientProperties(KafkaAccess.RETRAIN, "not-the-password"));
        ExecutionException e = assertThrows(ExecutionException.class, () -> listTopics(p));
        assertInstanceOf(SaslAuthenticationException.class, e.getCause());
    }

    @Test
    void onlyRetrainWritesTheModelRegistry() throws Exception {
        TopicAuthorizationException denied = assertThrows(TopicAuthorizationException.class,
                () -> send(KafkaAccess.INFERENCE, Topics.MODEL_VERSIONS, "default", "forged"));
        assertTrue(denied.unauthorizedTopics().contains(Topics.MODEL_VERSIONS));
        // cli may write no topic at all: the broker refuses it a producer id (cluster authorisation) before any topic check.
        assertThrows(AuthorizationException.class, () -> send(KafkaAccess.CLI, Topics.MODEL_VERSIONS, "default", "forged"));
        assertThrows(TopicAuthorizationException.class, () -> send(KafkaAccess.INGEST, Topics.MODEL_VERSIONS, "default", "forged"));

        send(KafkaAccess.RETRAIN, Topics.MODEL_VERSIONS, "dom-test", "{\"version\":\"v1\"}");
        List<String> read = readAll(KafkaAccess.INFERENCE, "inference", Topics.MODEL_VERSIONS);
        assertTrue(read.contains("{\"version\":\"v1\"}"), read.toString());
    }

    @Test
    void onlyIngestWritesReceivedInstancesAndEachReadsOnlyItsInputs() throws Exception {
        assertThrows(TopicAuthorizationException.class, () -> send(KafkaAccess.STREAMS, Topics.INSTANCES_RECEIVED, "s", "x"));
        assertThrows(TopicAuthorizationException.class, () -> send(KafkaAccess.INFERENCE, Topics.INSTANCES_RECEIVED, "s", "x"));
        send(KafkaAccess.INGEST, Topics.INSTANCES_RECEIVED, "1.2.3", "instance");
        assertTrue(readAll(KafkaAccess.CLI, null, Topics.INSTANCES_RECEIVED).contains("instance"));
        // ingest's DICOMweb index reads what it published and the results, with assigned partitions and no group.
        assertTrue(readAll(KafkaAccess.INGEST, null, Topics.INSTANCES_RECEIVED).contains("instance"));
        readAll(KafkaAccess.INGEST, null, Topics.SEGMENTATION_RESULTS);
        // fhir-bridge reads results, not received instances; inference may not use retrain's consumer group.
        assertThrows(TopicAuthorizationException.class, () -> readAll(KafkaAccess.FHIR_BRIDGE, null, Topics.INSTANCES_RECEIVED));
        assertThrows(GroupAuthorizationException.class, () -> readAll(KafkaAccess.INFERENCE, "retrain", Topics.SERIES_READY));
        // cli writes nothing, not even the audit trail.
        assertThrows(AuthorizationException.class, () -> send(KafkaAccess.CLI, Topics.AUDIT_EVENTS, "cli", "x"));
    }

    @Test
    void provisioningIsIdempotentAndRemovesAnAclTheTableDoesNotHave() throws Exception {
        try (Admin admin = broker.admin()) {
            AclBinding extra = new AclBinding(new ResourcePattern(ResourceType.TOPIC, Topics.MODEL_VERSIONS, PatternType.LITERAL),
                    new AccessControlEntry("User:" + KafkaAccess.INFERENCE, "*", AclOperation.WRITE, AclPermissionType.ALLOW));
            admin.createAcls(List.of(extra)).all().get(30, TimeUnit.SECONDS);
            AccessProvisioner.Result r = new AccessProvisioner(admin, broker.secrets()).ensure();
            assertEquals(1, r.aclsDeleted(), "the added grant is stale");
            assertEquals(0, r.aclsCreated());
            r = new AccessProvisioner(admin, broker.secrets()).ensure();
            assertEquals(new AccessProvisioner.Result(KafkaAccess.PRINCIPALS.size(), 0, 0), r);
        }
        assertThrows(TopicAuthorizationException.class, () -> send(KafkaAccess.INFERENCE, Topics.MODEL_VERSIONS, "default", "forged"));
    }

    @Test
    void everyTopicHasThreeReplicasAndNeedsTwoInSync() throws Exception {
        try (Admin admin = broker.admin()) {
            Map<String, TopicDescription> d = admin.describeTopics(Topics.ALL.stream().map(TopicSpec::name).toList())
                    .allTopicNames().get(30, TimeUnit.SECONDS);
            for (TopicSpec t : Topics.ALL) {
                for (TopicPartitionInfo p : d.get(t.name()).partitions()) assertEquals(3, p.replicas().size(), t.name());
                Config c = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, t.name())))
                        .all().get(20, TimeUnit.SECONDS).values().iterator().next();
                assertEquals("2", c.get("min.insync.replicas").value(), t.name());
            }
        }
    }

    /** Last: it kills a node (and restarts it). */
    @Test
    @Order(Integer.MAX_VALUE)
    void whenOneNodeDiesWritesGoOnAndNothingAcknowledgedIsLost() throws Exception {
        String topic = Topics.DOMAIN_COMMANDS; // written by operator only, read by cli: no other test touches it
        sendMany(KafkaAccess.OPERATOR, topic, "before", 20);
        long killed = System.nanoTime();
        broker.node(2).kill(); // a crash: no controlled shutdown
        sendMany(KafkaAccess.OPERATOR, topic, "during", 20);
        lap("node 2 killed; 20 writes acknowledged by the other two", killed);
        List<String> values = readAllPartitions(broker.clientProperties(KafkaAccess.CLI), topic, 40);
        assertEquals(40, values.size(), "every acknowledged record, once: " + values);
        for (int i = 0; i < 20; i++) {
            assertTrue(values.contains("before-" + i) && values.contains("during-" + i), "record " + i + " missing: " + values);
        }
        try (Admin admin = broker.admin()) {
            List<String> behind = TopicProvisioner.awaitInSync(admin, Duration.ZERO);
            assertTrue(behind.contains(topic + "-0"), "with node 2 down, every partition is short of an in-sync replica: " + behind);
        }
        long restarted = System.nanoTime();
        broker.node(2).start();
        try (Admin admin = broker.admin()) {
            List<String> behind = TopicProvisioner.awaitInSync(admin, Duration.ofSeconds(90));
            assertEquals(List.of(), behind, "node 2 did not rejoin every catalogued partition's ISR");
        }
        lap("node 2 restarted and back in every partition's ISR", restarted);
        // A client that knows only the restarted node finds the cluster, with the same credentials.
        Map<String, String> onlyNode2 = new HashMap<>(broker.clientProperties(KafkaAccess.CLI));
        onlyNode2.put("bootstrap.servers", broker.bootstrap().split(",")[1]);
        assertEquals(40, readAllPartitions(onlyNode2, topic, 40).size());
    }

    /** {@code n} records through one idempotent producer, each acknowledged (acks=all) before the next is sent. */
    private static void sendMany(String principal, String topic, String prefix, int n) throws Exception {
        Properties p = new Properties();
        p.putAll(broker.clientProperties(principal));
        p.put("acks", "all");
        p.put("enable.idempotence", "true");
        p.put("max.block.ms", "30000");
        p.put("delivery.timeout.ms", "60000"); // a killed leader is fenced after the broker session timeout (9 s)
        p.put("request.timeout.ms", "15000");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < n; i++) producer.send(new ProducerRecord<>(topic, prefix + "-" + i, prefix + "-" + i)).get(70, TimeUnit.SECONDS);
        }
    }

    private static void lap(String what, long since) {
        System.err.printf("SecuredBrokerTest: %s in %.1f s%n", what, (System.nanoTime() - since) / 1e9);
    }

    /** Every partition from the beginning, without a group, until {@code expected} records (or 60 s), then one more poll. */
    private static List<String> readAllPartitions(Map<String, String> client, String topic, int expected) {
        Properties p = new Properties();
        p.putAll(client);
        p.put("enable.auto.commit", "false");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            List<String> out = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) out.add(r.value());
            }
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) out.add(r.value()); // a duplicate would show
            return out;
        }
    }

    private static void listTopics(Map<String, String> settings) throws Exception {
        Properties p = new Properties();
        p.putAll(settings);
        p.put("request.timeout.ms", "2000");
        p.put("default.api.timeout.ms", "4000"); // a refused client gets no answer at all: 4 s show it as well as 8
        try (Admin admin = Admin.create(p)) {
            admin.listTopics().names().get(20, TimeUnit.SECONDS);
        }
    }

    private static void send(String principal, String topic, String key, String value) throws Exception {
        Properties p = new Properties();
        p.putAll(broker.clientProperties(principal));
        p.put("acks", "all");
        p.put("max.block.ms", "15000");
        p.put("delivery.timeout.ms", "20000");
        p.put("request.timeout.ms", "10000");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | org.apache.kafka.common.KafkaException e) {
            // A refusal arrives through the send's future, or, when the producer already failed to get its producer id,
            // from send() itself as "error state" with the refusal as its cause: report the refusal either way.
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof AuthorizationException a) throw a;
            }
            if (e.getCause() instanceof Exception cause && e instanceof ExecutionException) throw cause;
            throw e;
        }
    }

    /** Reads the topic's first partition to its end: assigned, or subscribed in {@code group} when one is given. */
    private static List<String> readAll(String principal, String group, String topic) {
        Properties p = new Properties();
        p.putAll(broker.clientProperties(principal));
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.put("default.api.timeout.ms", "15000");
        if (group != null) p.put("group.id", group);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            List<String> values = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (c.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) values.add(r.value());
            }
            // A group's offsets: committing them needs READ on the group.
            if (group != null) c.commitSync(Map.of(tp, new org.apache.kafka.clients.consumer.OffsetAndMetadata(c.position(tp))));
            return values;
        }
    }
}
