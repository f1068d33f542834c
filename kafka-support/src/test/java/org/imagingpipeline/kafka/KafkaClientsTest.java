package org.imagingpipeline.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Every kafka.* setting reaches the clients that know it; the pipeline's guarantees cannot be configured away. */
class KafkaClientsTest {
    private static SmallRyeConfig config(Map<String, String> props) {
        return new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(props, "test", 500)).build();
    }

    @Test
    void aClientPropertiesFileGivesToolsTheirCredentials(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path file = dir.resolve("cli.properties");
        java.nio.file.Files.writeString(file, "security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username\\=\"cli\" password\\=\"p\";\n"
                + "bootstrap.servers=elsewhere:1\n");
        KafkaClients c = KafkaClients.of("127.0.0.1:9092", file);
        Properties consumer = c.consumerProperties(Map.of());
        assertEquals("127.0.0.1:9092", consumer.get("bootstrap.servers"), "the given address wins over the file's");
        assertEquals("SASL_SSL", consumer.get("security.protocol"));
        assertTrue(consumer.get("sasl.jaas.config").toString().contains("username=\"cli\""));

        // A tool: the file named by the environment first, then KAFKA_* variables, then its options.
        KafkaClients tool = KafkaClients.fromEnvironment(Map.of(KafkaClients.CLIENT_PROPERTIES_ENV, file.toString(),
                "KAFKA_SASL_MECHANISM", "SCRAM-SHA-256"), Map.of("bootstrap.servers", "b:2"));
        Properties admin = tool.adminProperties(Map.of());
        assertEquals("SASL_SSL", admin.get("security.protocol"));
        assertEquals("SCRAM-SHA-256", admin.get("sasl.mechanism"));
        assertEquals("b:2", admin.get("bootstrap.servers"));
        assertFalse(tool.toString().contains("password"), "never the values");
        assertThrows(java.io.UncheckedIOException.class, () -> KafkaClients.of("b:1", dir.resolve("missing.properties")));
    }

    @Test
    void securitySettingsFromConfigurationReachEveryClient() {
        KafkaClients c = KafkaClients.fromConfig(config(Map.of(
                "kafka.bootstrap.servers", "broker:9093",
                "kafka.security.protocol", "SASL_SSL",
                "kafka.sasl.mechanism", "SCRAM-SHA-512",
                "kafka.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "kafka.ssl.truststore.location", "/etc/ca.pem",
                "kafka-streams.security.protocol", "SSL",
                "quarkus.kafka.devservices.enabled", "false",
                "inference.kafka.group-id", "inference")), Map.of());
        for (Properties p : new Properties[] {c.consumerProperties(Map.of()), c.producerProperties(Map.of()), c.adminProperties(Map.of())}) {
            assertEquals("broker:9093", p.get("bootstrap.servers"));
            assertEquals("SASL_SSL", p.get("security.protocol"));
            assertEquals("SCRAM-SHA-512", p.get("sasl.mechanism"));
            assertEquals("/etc/ca.pem", p.get("ssl.truststore.location"));
            assertTrue(p.get("sasl.jaas.config").toString().contains("ScramLoginModule"));
            assertFalse(p.containsKey("devservices.enabled"));
        }
        assertFalse(c.toString().contains("ScramLoginModule"), "no secret in toString: " + c);
    }

    @Test
    void serviceOverridesWinAndEachClientGetsOnlyItsOwnProperties() {
        KafkaClients c = KafkaClients.fromConfig(config(Map.of("kafka.bootstrap.servers", "a:1", "kafka.max.poll.records", "7",
                "kafka.linger.ms", "5")), Map.of("security.protocol", "SSL"));
        Properties consumer = c.consumerProperties(Map.of("max.poll.records", "50", "group.id", "g"));
        assertEquals("SSL", consumer.get("security.protocol"));
        assertEquals("7", consumer.get("max.poll.records"), "a setting wins over the call site's default");
        assertEquals("g", consumer.get("group.id"));
        assertNull(consumer.get("linger.ms"), "a producer setting is not given to a consumer");
        assertEquals("5", c.producerProperties(Map.of()).get("linger.ms"));
    }

    @Test
    void guaranteesCannotBeConfiguredAway() {
        KafkaClients c = KafkaClients.of(Map.of("bootstrap.servers", "a:1", "enable.auto.commit", "true",
                "isolation.level", "read_uncommitted", "acks", "1", "enable.idempotence", "false"));
        Properties consumer = c.consumerProperties(Map.of());
        assertEquals("false", consumer.get("enable.auto.commit"));
        assertEquals("read_committed", consumer.get("isolation.level"));
        Properties producer = c.producerProperties(Map.of());
        assertEquals("all", producer.get("acks"));
        assertEquals("true", producer.get("enable.idempotence"));
    }

    @Test
    void environmentNamesAndQuotedKeysAreClientProperties() {
        assertEquals("security.protocol", KafkaClients.clientKey("KAFKA_SECURITY_PROTOCOL"));
        assertEquals("sasl.jaas.config", KafkaClients.clientKey("kafka.\"sasl.jaas.config\""));
        assertNull(KafkaClients.clientKey("kafka-streams.state.dir"));
        assertNull(KafkaClients.clientKey("Kafka_mixed"));
        assertThrows(IllegalArgumentException.class, () -> KafkaClients.of(Map.of("security.protocol", "SSL")),
                "no bootstrap servers");
    }
}
