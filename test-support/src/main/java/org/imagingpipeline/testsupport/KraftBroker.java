package org.imagingpipeline.testsupport;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.apache.kafka.common.Uuid;
import org.imagingpipeline.testsupport.kafka.KafkaSecrets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs a real single-node Kafka broker (KRaft: broker and controller in one process) in this JVM.
 * Meant to be the main class of its own JVM ({@link BrokerProcess} or {@code ./pipeline up} start it).
 *
 * <p>Usage: {@code KraftBroker --data-dir DIR [--port 9092] [--controller-port 9093] [--host 127.0.0.1]}.
 * On first start it writes {@code DIR/server.properties} and formats the storage under {@code DIR/kraft-logs};
 * later starts reuse both. SIGTERM shuts the broker down cleanly.
 */
@Command(name = "kraft-broker", mixinStandardHelpOptions = true,
        description = "A single-node KRaft broker (broker and controller) in this JVM; SIGTERM stops it cleanly.")
public final class KraftBroker implements Callable<Integer> {
    @Option(names = "--data-dir", required = true, description = "server.properties, cluster.id and the logs live here")
    Path dataDir;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "listener address (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "9092", description = "client listener port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--controller-port", description = "controller listener port (default: port + 1)")
    Integer controllerPort;

    @Option(names = "--secrets", description = "PIPELINE_HOME/secrets (KafkaSecrets): run secured. The client listener "
            + "(--port) is SASL_SSL with SCRAM-SHA-512; the internal (--internal-port) and controller listeners are TLS with "
            + "client certificates; the StandardAuthorizer denies what no ACL allows. Without it: plaintext, no ACLs")
    Path secrets;

    @Option(names = "--internal-port", description = "internal (inter-broker and provisioning) listener port when secured "
            + "(default: port + 2)")
    Integer internalPort;

    public static void main(String[] args) {
        int rc = new CommandLine(new KraftBroker()).execute(args);
        if (rc != 0) System.exit(rc);
    }

    @Override
    public Integer call() throws Exception {
        Path dataDir = this.dataDir.toAbsolutePath();
        int controllerPort = this.controllerPort == null ? port + 1 : this.controllerPort;
        Files.createDirectories(dataDir);
        int internal = internalPort == null ? port + 2 : internalPort;
        Map<String, String> config = serverConfig(dataDir, host, port, controllerPort);
        if (secrets != null) config.putAll(securedConfig(KafkaSecrets.at(secrets), host, port, controllerPort, internal));
        Path props = writeServerProperties(dataDir, config);
        format(dataDir, props);
        System.err.printf("KraftBroker: starting on %s:%d (controller %d%s), data %s%n", host, port, controllerPort,
                secrets == null ? ", plaintext" : ", SASL_SSL, internal " + internal, dataDir);
        kafka.Kafka.main(new String[] {props.toString()});
        return 0;
    }

    static Path writeServerProperties(Path dataDir, Map<String, String> config) throws IOException {
        Properties p = new Properties();
        p.putAll(config);
        Path file = dataDir.resolve("server.properties");
        try (var w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(w, "written by KraftBroker; regenerated at every start");
        }
        return file;
    }

    /** The broker configuration: one node, one replica, topics only as provisioned. */
    static Map<String, String> serverConfig(Path dataDir, String host, int port, int controllerPort) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("process.roles", "broker,controller");
        c.put("node.id", "1");
        c.put("controller.quorum.voters", "1@" + host + ":" + controllerPort);
        c.put("listeners", "PLAINTEXT://" + host + ":" + port + ",CONTROLLER://" + host + ":" + controllerPort);
        c.put("advertised.listeners", "PLAINTEXT://" + host + ":" + port);
        c.put("controller.listener.names", "CONTROLLER");
        c.put("inter.broker.listener.name", "PLAINTEXT");
        c.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        c.put("log.dirs", dataDir.resolve("kraft-logs").toString());
        c.put("offsets.topic.replication.factor", "1");
        c.put("offsets.topic.num.partitions", "3");
        c.put("transaction.state.log.replication.factor", "1");
        c.put("transaction.state.log.min.isr", "1");
        c.put("transaction.state.log.num.partitions", "3");
        c.put("share.coordinator.state.topic.replication.factor", "1");
        c.put("share.coordinator.state.topic.min.isr", "1");
        c.put("num.partitions", "1");
        c.put("default.replication.factor", "1");
        c.put("min.insync.replicas", "1");
        c.put("group.initial.rebalance.delay.ms", "0");
        // Topics are created by TopicProvisioner with their documented settings, never by accident.
        c.put("auto.create.topics.enable", "false");
        c.put("log.cleaner.enable", "true");
        return c;
    }

    /**
     * The settings that secure the broker (laid over {@link #serverConfig}): three listeners, all TLS with the local CA's
     * {@code kafka-broker} certificate. CLIENT (the port every service and tool uses) takes SASL SCRAM-SHA-512 only;
     * INTERNAL (inter-broker traffic, and the provisioning identity) and CONTROLLER require a client certificate of the
     * local CA. The broker's and the provisioning identity's certificate subjects are the super users; every other
     * principal gets only what its ACLs allow (KafkaAccess).
     */
    static Map<String, String> securedConfig(KafkaSecrets s, String host, int port,
                                             int controllerPort, int internalPort) throws IOException {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("listeners", "CLIENT://" + host + ":" + port + ",INTERNAL://" + host + ":" + internalPort
                + ",CONTROLLER://" + host + ":" + controllerPort);
        c.put("advertised.listeners", "CLIENT://" + host + ":" + port + ",INTERNAL://" + host + ":" + internalPort);
        c.put("listener.security.protocol.map", "CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL");
        c.put("inter.broker.listener.name", "INTERNAL");
        c.put("controller.listener.names", "CONTROLLER");
        c.put("sasl.enabled.mechanisms", KafkaSecrets.SCRAM_MECHANISM);
        c.put("listener.name.client.sasl.enabled.mechanisms", KafkaSecrets.SCRAM_MECHANISM);
        c.put("listener.name.client.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        c.put("ssl.keystore.type", "PEM");
        c.put("ssl.keystore.location", s.brokerKeystore().toString());
        c.put("ssl.truststore.type", "PEM");
        c.put("ssl.truststore.location", s.caFile().toString());
        c.put("ssl.enabled.protocols", "TLSv1.3,TLSv1.2");
        c.put("listener.name.client.ssl.client.auth", "none");
        c.put("listener.name.internal.ssl.client.auth", "required");
        c.put("listener.name.controller.ssl.client.auth", "required");
        c.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        c.put("allow.everyone.if.no.acl.found", "false");
        c.put("super.users", s.brokerPrincipal() + ";" + s.adminPrincipal());
        return c;
    }

    /** Formats the storage once; an already formatted directory is left as it is. */
    static void format(Path dataDir, Path props) throws IOException {
        if (Files.exists(dataDir.resolve("kraft-logs").resolve("meta.properties"))) return;
        Path idFile = dataDir.resolve("cluster.id");
        String clusterId = Files.exists(idFile) ? Files.readString(idFile).trim() : Uuid.randomUuid().toString();
        Files.writeString(idFile, clusterId);
        PrintStream out = System.err;
        int rc = kafka.tools.StorageTool.execute(
                new String[] {"format", "-t", clusterId, "-c", props.toString(), "--ignore-formatted"}, out);
        if (rc != 0) throw new IOException("formatting Kafka storage in " + dataDir + " failed with " + rc);
    }
}
