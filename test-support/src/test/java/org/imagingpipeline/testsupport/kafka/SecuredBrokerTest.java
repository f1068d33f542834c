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
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The broker as {@code ./pipeline up} runs it (issue 19 item 2): a real KRaft broker with a SASL_SSL client listener,
 * the StandardAuthorizer and the ACLs of {@link KafkaAccess}, provisioned by {@link AccessProvisioner}. A client
 * without credentials, with the wrong password or without SASL can do nothing; each principal can do its job and
 * nothing the table does not give it.
 */
class SecuredBrokerTest {
    private static Path dir;
    private static BrokerProcess broker;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("secured-broker");
        broker = BrokerProcess.startSecuredWithTopics(dir.resolve("kafka"), dir.resolve("secrets"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (broker != null) broker.stop();
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

    private static void listTopics(Map<String, String> settings) throws Exception {
        Properties p = new Properties();
        p.putAll(settings);
        p.put("request.timeout.ms", "4000");
        p.put("default.api.timeout.ms", "8000");
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
