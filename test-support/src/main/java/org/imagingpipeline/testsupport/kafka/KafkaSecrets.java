package org.imagingpipeline.testsupport.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.imagingpipeline.events.signing.PemFiles;
import org.imagingpipeline.localca.LocalCa;

/**
 * The Kafka credentials of the local stack under {@code PIPELINE_HOME/secrets/kafka/} (issue 19, docs/security.md
 * "Kafka"), created by {@code ./pipeline up} before the broker starts:
 * <ul>
 *   <li>{@code NAME.password} (0600, created once): the SCRAM-SHA-512 password of each principal of
 *       {@link KafkaAccess#PRINCIPALS};</li>
 *   <li>{@code NAME.properties} (0600): that principal's Kafka client settings (SASL_SSL, SCRAM-SHA-512, the JAAS line,
 *       the local CA as trust store), as Kafka's own tools take them ({@code --command-config}) and as the CLI reads
 *       them ({@code PIPELINE_KAFKA_CLIENT_PROPERTIES});</li>
 *   <li>{@code NAME.quarkus.properties} (0600): the same settings for a Quarkus service
 *       ({@code -Dquarkus.config.locations=file:...}): as {@code kafka.*} (kafka-support's clients) and
 *       {@code kafka-streams.*} (the Kafka Streams engine);</li>
 *   <li>{@code broker-keystore.pem} (0600): the broker's key and certificate chain (local CA certificate
 *       {@code kafka-broker}), for all three of its listeners;</li>
 *   <li>{@code admin-keystore.pem} and {@code admin.properties} (0600): the provisioning identity (certificate
 *       {@code kafka-admin}, a super user), which reaches the broker's internal mutual-TLS listener only.</li>
 * </ul>
 * Passwords are never printed, logged or put on a command line. Re-running keeps passwords and keys; the property
 * files are rewritten (paths may have moved).
 */
public final class KafkaSecrets {
    public static final String FOLDER = "kafka";
    public static final String BROKER_CERT = "kafka-broker";
    public static final String ADMIN_CERT = "kafka-admin";
    public static final String SCRAM_MECHANISM = "SCRAM-SHA-512";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path secrets;
    private final Path folder;

    private KafkaSecrets(Path secrets) {
        this.secrets = secrets.toAbsolutePath();
        this.folder = this.secrets.resolve(FOLDER);
    }

    /** The files of {@code secrets} as they are (nothing is created). */
    public static KafkaSecrets at(Path secrets) {
        return new KafkaSecrets(secrets);
    }

    /** Creates what is missing (CA, certificates, passwords) and rewrites the property files. */
    public static KafkaSecrets ensure(Path secrets) throws IOException {
        KafkaSecrets s = new KafkaSecrets(secrets);
        LocalCa ca = LocalCa.ensure(s.secrets);
        PemFiles.secretsFolder(s.folder);
        LocalCa.Issued broker = ca.issue(BROKER_CERT, List.of());
        LocalCa.Issued admin = ca.issue(ADMIN_CERT, List.of());
        PemFiles.writeOwnerOnly(s.brokerKeystore(), Files.readString(broker.privateKey()) + Files.readString(broker.certificate()));
        PemFiles.writeOwnerOnly(s.adminKeystore(), Files.readString(admin.privateKey()) + Files.readString(admin.certificate()));
        for (String principal : KafkaAccess.PRINCIPALS) {
            Path pw = s.passwordFile(principal);
            if (!Files.exists(pw)) {
                byte[] b = new byte[24];
                RANDOM.nextBytes(b);
                PemFiles.createOnce(pw, Base64.getUrlEncoder().withoutPadding().encodeToString(b) + "\n");
            }
            PemFiles.ownerOnly(pw);
            Map<String, String> client = s.clientProperties(principal);
            PemFiles.writeOwnerOnly(s.clientPropertiesFile(principal), properties(client, ""));
            PemFiles.writeOwnerOnly(s.quarkusPropertiesFile(principal), properties(client, "kafka.") + properties(client, "kafka-streams."));
        }
        PemFiles.writeOwnerOnly(s.adminPropertiesFile(), properties(s.adminProperties(), ""));
        return s;
    }

    public Path folder() {
        return folder;
    }

    public Path caFile() {
        return secrets.resolve(LocalCa.CA_FILE);
    }

    public Path brokerKeystore() {
        return folder.resolve("broker-keystore.pem");
    }

    public Path adminKeystore() {
        return folder.resolve("admin-keystore.pem");
    }

    public Path passwordFile(String principal) {
        return folder.resolve(checked(principal) + ".password");
    }

    public Path clientPropertiesFile(String principal) {
        return folder.resolve(checked(principal) + ".properties");
    }

    public Path quarkusPropertiesFile(String principal) {
        return folder.resolve(checked(principal) + ".quarkus.properties");
    }

    public Path adminPropertiesFile() {
        return folder.resolve("admin.properties");
    }

    /** The principal's password (trimmed). */
    public String password(String principal) {
        try {
            return Files.readString(passwordFile(principal), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("no Kafka password for " + principal + " under " + folder, e);
        }
    }

    /** A principal's client settings (no bootstrap address): SASL_SSL with SCRAM-SHA-512, the local CA as trust. */
    public Map<String, String> clientProperties(String principal) {
        return clientProperties(principal, password(principal));
    }

    /** Client settings for {@code user} with {@code password} (tests use it with wrong passwords too). */
    public Map<String, String> clientProperties(String user, String password) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("security.protocol", "SASL_SSL");
        m.put("sasl.mechanism", SCRAM_MECHANISM);
        m.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + user + "\" password=\"" + password + "\";");
        m.put("ssl.truststore.type", "PEM");
        m.put("ssl.truststore.location", caFile().toString());
        return m;
    }

    /** The provisioning identity's settings (for the internal listener): mutual TLS with the kafka-admin certificate. */
    public Map<String, String> adminProperties() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("security.protocol", "SSL");
        m.put("ssl.keystore.type", "PEM");
        m.put("ssl.keystore.location", adminKeystore().toString());
        m.put("ssl.truststore.type", "PEM");
        m.put("ssl.truststore.location", caFile().toString());
        return m;
    }

    /** The broker's principal (from its certificate's subject), a super user. */
    public String brokerPrincipal() throws IOException {
        return principalOf(LocalCa.certificateFile(secrets, BROKER_CERT));
    }

    /** The provisioning identity's principal, a super user. */
    public String adminPrincipal() throws IOException {
        return principalOf(LocalCa.certificateFile(secrets, ADMIN_CERT));
    }

    /** {@code User:} and the subject as Kafka's default SSL principal builder names it (RFC 2253). */
    static String principalOf(Path certificate) throws IOException {
        X509Certificate c = LocalCa.readCertificates(certificate).get(0);
        return "User:" + c.getSubjectX500Principal().getName();
    }

    private static String checked(String principal) {
        if (!KafkaAccess.PRINCIPALS.contains(principal)) throw new IllegalArgumentException("unknown Kafka principal " + principal);
        return principal;
    }

    static String properties(Map<String, String> m, String prefix) {
        Properties p = new Properties();
        m.forEach((k, v) -> p.setProperty(prefix + k, v));
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try {
            p.store(out, null); // the stream form writes ASCII only (non-ASCII as unicode escapes)
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // Properties.store starts with a date comment; drop it so that an unchanged file is rewritten identically.
        return out.toString(StandardCharsets.ISO_8859_1).lines().filter(l -> !l.startsWith("#")).reduce("", (a, b) -> a + b + "\n");
    }
}
