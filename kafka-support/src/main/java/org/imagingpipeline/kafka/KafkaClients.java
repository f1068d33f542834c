package org.imagingpipeline.kafka;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.Config;

/**
 * The one place where the services' Kafka clients are configured. Every {@code kafka.*} setting of the service's
 * configuration is a client property with the prefix removed ({@code kafka.bootstrap.servers},
 * {@code kafka.security.protocol}, {@code kafka.sasl.mechanism}, {@code kafka.sasl.jaas.config},
 * {@code kafka.ssl.truststore.location}, ...; as environment variables {@code KAFKA_SECURITY_PROTOCOL} and so on), and
 * a service's own map of extra client properties (e.g. {@code bridge.kafka.client."security.protocol"}) is laid over
 * them. Each client gets only the properties it knows (a producer no consumer settings, and so on).
 *
 * <p>Precedence, lowest first: the defaults a client asks for at its call site (sizes, group, client id), then these
 * settings, then what the pipeline's guarantees need and no setting may change: consumers never auto-commit and read
 * only committed records; producers are idempotent with {@code acks=all}.
 */
public final class KafkaClients {
    /** The prefix of the settings taken from the configuration. */
    public static final String PREFIX = "kafka.";
    private static final String ENV_PREFIX = "KAFKA_";

    private final Map<String, String> settings;

    private KafkaClients(Map<String, String> settings) {
        if (settings.getOrDefault(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "").isBlank()) {
            throw new IllegalArgumentException("kafka.bootstrap.servers is not set");
        }
        this.settings = Map.copyOf(settings);
    }

    /** Clients with these client properties (names without the {@code kafka.} prefix). */
    public static KafkaClients of(Map<String, String> clientProperties) {
        return new KafkaClients(new LinkedHashMap<>(clientProperties));
    }

    /** Clients of a broker without further settings (a plaintext broker: tests of one service). */
    public static KafkaClients of(String bootstrapServers) {
        return of(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /**
     * Clients of a broker with the settings of a Kafka client properties file (as Kafka's tools take with
     * {@code --command-config}; the local stack writes one per principal: {@code PIPELINE_HOME/secrets/kafka/NAME.properties}
     * with SASL_SSL, SCRAM-SHA-512 and the local CA). {@code bootstrapServers} wins over a bootstrap address in the file.
     */
    public static KafkaClients of(String bootstrapServers, Path clientProperties) {
        Map<String, String> m = new LinkedHashMap<>(readClientProperties(clientProperties));
        m.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return of(m);
    }

    /** The environment variable naming a Kafka client properties file that command-line tools read first. */
    public static final String CLIENT_PROPERTIES_ENV = "PIPELINE_KAFKA_CLIENT_PROPERTIES";

    /** The properties of a Kafka client properties file (Java properties format). */
    public static Map<String, String> readClientProperties(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the Kafka client properties " + file, e);
        }
        Map<String, String> m = new LinkedHashMap<>();
        p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
        return m;
    }

    /**
     * Every {@code kafka.*} property of the configuration (and {@code KAFKA_*} environment variable: upper case,
     * underscores for dots), with {@code overrides} (a service's extra client properties) laid over them.
     */
    public static KafkaClients fromConfig(Config config, Map<String, String> overrides) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String name : config.getPropertyNames()) {
            String key = clientKey(name);
            if (key == null || m.containsKey(key) && !name.startsWith(PREFIX)) continue;
            config.getOptionalValue(name, String.class).ifPresent(v -> m.put(key, v));
        }
        m.putAll(overrides);
        return of(m);
    }

    /**
     * Clients of a command-line tool: the Kafka client properties file named by {@value #CLIENT_PROPERTIES_ENV} (the
     * local stack's credentials; {@code ./pipeline} sets it), then every {@code KAFKA_*} environment variable that names
     * a client property (as {@link #fromConfig} reads them: {@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SASL_JAAS_CONFIG},
     * ...), then {@code overrides} (the tool's options, e.g. its {@code --bootstrap}).
     */
    public static KafkaClients fromEnvironment(Map<String, String> environment, Map<String, String> overrides) {
        Map<String, String> m = new LinkedHashMap<>();
        String file = environment.get(CLIENT_PROPERTIES_ENV);
        if (file != null && !file.isBlank()) m.putAll(readClientProperties(Path.of(file)));
        environment.forEach((name, value) -> {
            String key = name.startsWith(ENV_PREFIX) ? clientKey(name) : null;
            if (key != null) m.put(key, value);
        });
        m.putAll(overrides);
        return of(m);
    }

    /** The client property a configuration name stands for, or null when it is not a Kafka client setting. */
    static String clientKey(String name) {
        if (name.startsWith(PREFIX) && name.length() > PREFIX.length()) {
            String key = name.substring(PREFIX.length());
            return key.startsWith("\"") && key.endsWith("\"") && key.length() > 2 ? key.substring(1, key.length() - 1) : key;
        }
        if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length() && name.equals(name.toUpperCase(Locale.ROOT))) {
            return name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
        }
        return null;
    }

    /** The same settings with {@code more} laid over them. */
    public KafkaClients with(Map<String, String> more) {
        Map<String, String> m = new LinkedHashMap<>(settings);
        m.putAll(more);
        return of(m);
    }

    public String bootstrapServers() {
        return settings.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG);
    }

    /** The settings as given (all clients' properties together). */
    public Map<String, String> settings() {
        return settings;
    }

    /**
     * Consumer properties: {@code defaults} (the call site's), the settings, then manual commits and read_committed.
     * A {@code group.id} among the defaults stays (a service's own group is not a shared setting).
     */
    public Properties consumerProperties(Map<String, ?> defaults) {
        Properties p = merge(defaults, ConsumerConfig.configNames());
        Object group = defaults.get(ConsumerConfig.GROUP_ID_CONFIG);
        if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return p;
    }

    /** Producer properties: {@code defaults}, the settings, then {@code acks=all} and idempotence. */
    public Properties producerProperties(Map<String, ?> defaults) {
        Properties p = merge(defaults, ProducerConfig.configNames());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        return p;
    }

    public Properties adminProperties(Map<String, ?> defaults) {
        return merge(defaults, AdminClientConfig.configNames());
    }

    public <V> KafkaConsumer<String, V> consumer(Map<String, ?> defaults, Deserializer<V> values) {
        return new KafkaConsumer<>(consumerProperties(defaults), new StringDeserializer(), values);
    }

    /** A consumer of String keys and raw values. */
    public KafkaConsumer<String, byte[]> consumer(Map<String, ?> defaults) {
        return consumer(defaults, new ByteArrayDeserializer());
    }

    public <V> KafkaProducer<String, V> producer(Map<String, ?> defaults, Serializer<V> values) {
        return new KafkaProducer<>(producerProperties(defaults), new StringSerializer(), values);
    }

    /** A producer of String keys and raw values. */
    public KafkaProducer<String, byte[]> producer(Map<String, ?> defaults) {
        return producer(defaults, new ByteArraySerializer());
    }

    public Admin admin(Map<String, ?> defaults) {
        return Admin.create(adminProperties(defaults));
    }

    private Properties merge(Map<String, ?> defaults, Set<String> known) {
        Properties p = new Properties();
        p.putAll(defaults);
        settings.forEach((k, v) -> {
            if (known.contains(k)) p.put(k, v);
        });
        return p;
    }

    @Override
    public String toString() {
        // Never the values: they may be passwords or JAAS lines.
        return "KafkaClients" + settings.keySet();
    }
}
