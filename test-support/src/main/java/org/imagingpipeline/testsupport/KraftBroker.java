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
import org.imagingpipeline.events.TopicSpec;
import org.imagingpipeline.testsupport.kafka.KafkaSecrets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs a real Kafka node (KRaft: broker and controller in one process) in this JVM: alone, or as one node of a
 * cluster whose nodes are all broker and controller. Meant to be the main class of its own JVM ({@link BrokerProcess}
 * or {@code ./pipeline up} start it).
 *
 * <p>Usage: {@code KraftBroker --data-dir DIR [--port 9092] [--controller-port 9093] [--host 127.0.0.1]}; a node of a
 * three-node cluster adds {@code --node-id 2 --voters 1@127.0.0.1:9093,2@127.0.0.1:9103,3@127.0.0.1:9113
 * --cluster-id ID --replication 3} (the same voters, cluster id and replication on every node). On first start it
 * writes {@code DIR/server.properties} and formats the storage under {@code DIR/kraft-logs}; later starts reuse both.
 * SIGTERM shuts the node down cleanly.
 */
@Command(name = "kraft-broker", mixinStandardHelpOptions = true,
        description = "A KRaft node (broker and controller) in this JVM, alone or one of a cluster; SIGTERM stops it cleanly.")
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

    @Option(names = "--node-id", defaultValue = "1", description = "this node's id (default: ${DEFAULT-VALUE})")
    int nodeId;

    @Option(names = "--voters", description = "the controller quorum of a cluster, ID@HOST:CONTROLLER_PORT,... (the same "
            + "list on every node; default: this node alone)")
    String voters;

    @Option(names = "--cluster-id", description = "the cluster id every node of a cluster is formatted with (default: "
            + "DIR/cluster.id, created on first start)")
    String clusterId;

    @Option(names = "--replication", defaultValue = "1", description = "replicas of the internal topics and of topics "
            + "created without a count; min.insync.replicas is replication - 1, at least 1 (default: ${DEFAULT-VALUE})")
    int replication;

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
        if (replication < 1) throw new CommandLine.ParameterException(new CommandLine(this), "--replication must be >= 1");
        Map<String, String> config = serverConfig(dataDir, host, port, controllerPort);
        config.putAll(clusterConfig(nodeId, voters == null ? nodeId + "@" + host + ":" + controllerPort : voters, replication));
        if (secrets != null) config.putAll(securedConfig(KafkaSecrets.at(secrets), host, port, controllerPort, internal));
        Path props = writeServerProperties(dataDir, config);
        format(dataDir, props, clusterId);
        System.err.printf("KraftBroker: node %d starting on %s:%d (controller %d%s), replication %d, data %s%n", nodeId, host,
                port, controllerPort, secrets == null ? ", plaintext" : ", SASL_SSL, internal " + internal, replication, dataDir);
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

    /**
     * The node's listeners, storage and defaults, topics only as provisioned; its id, quorum and replication come from
     * {@link #clusterConfig} (one node, one replica, unless it is one of a cluster).
     */
    static Map<String, String> serverConfig(Path dataDir, String host, int port, int controllerPort) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("process.roles", "broker,controller");
        c.put("listeners", "PLAINTEXT://" + host + ":" + port + ",CONTROLLER://" + host + ":" + controllerPort);
        c.put("advertised.listeners", "PLAINTEXT://" + host + ":" + port);
        c.put("controller.listener.names", "CONTROLLER");
        c.put("inter.broker.listener.name", "PLAINTEXT");
        c.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        c.put("log.dirs", dataDir.resolve("kraft-logs").toString());
        c.put("offsets.topic.num.partitions", "3");
        c.put("transaction.state.log.num.partitions", "3");
        c.put("num.partitions", "1");
        c.put("group.initial.rebalance.delay.ms", "0");
        // Topics are created by TopicProvisioner with their documented settings, never by accident.
        c.put("auto.create.topics.enable", "false");
        c.put("log.cleaner.enable", "true");
        return c;
    }

    /**
     * The settings that place this node (laid over {@link #serverConfig}): its id, the static controller
     * quorum, and {@code replication} replicas for the internal topics (consumer offsets, transaction state, share
     * state) and for topics created without a count, with {@link TopicSpec#minInSyncReplicas} as the broker's default
     * min.insync.replicas (a write with acks=all then survives one node's loss from three).
     */
    static Map<String, String> clusterConfig(int nodeId, String voters, int replication) {
        if (!voters.matches("\\d+@[^,@]+:\\d+(,\\d+@[^,@]+:\\d+)*")) {
            throw new IllegalArgumentException("--voters must be ID@HOST:PORT,...: " + voters);
        }
        if (!java.util.Arrays.stream(voters.split(",")).anyMatch(v -> v.startsWith(nodeId + "@"))) {
            throw new IllegalArgumentException("node " + nodeId + " is not among the voters " + voters
                    + " (every node here is a controller)");
        }
        long count = voters.split(",").length;
        if (replication > count) {
            throw new IllegalArgumentException("--replication " + replication + " needs at least as many nodes; the quorum has " + count);
        }
        String r = Integer.toString(replication);
        String minIsr = Integer.toString(TopicSpec.minInSyncReplicas(replication));
        Map<String, String> c = new LinkedHashMap<>();
        c.put("node.id", Integer.toString(nodeId));
        c.put("controller.quorum.voters", voters);
        c.put("offsets.topic.replication.factor", r);
        c.put("transaction.state.log.replication.factor", r);
        c.put("transaction.state.log.min.isr", minIsr);
        c.put("share.coordinator.state.topic.replication.factor", r);
        c.put("share.coordinator.state.topic.min.isr", minIsr);
        c.put("default.replication.factor", r);
        c.put("min.insync.replicas", minIsr);
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

    /**
     * Formats the storage once with {@code wantedClusterId} (null: DIR/cluster.id, created once); an already formatted
     * directory is left as it is, but a node is never started with another cluster's id.
     */
    static void format(Path dataDir, Path props, String wantedClusterId) throws IOException {
        Path idFile = dataDir.resolve("cluster.id");
        String recorded = Files.exists(idFile) ? Files.readString(idFile).trim() : null;
        if (wantedClusterId != null && recorded != null && !recorded.equals(wantedClusterId)) {
            throw new IOException(dataDir + " belongs to cluster " + recorded + ", not " + wantedClusterId
                    + ": start it with its own cluster id or use an empty data directory");
        }
        if (Files.exists(dataDir.resolve("kraft-logs").resolve("meta.properties"))) return;
        String clusterId = wantedClusterId != null ? wantedClusterId : recorded != null ? recorded : Uuid.randomUuid().toString();
        Files.writeString(idFile, clusterId);
        PrintStream out = System.err;
        int rc = kafka.tools.StorageTool.execute(
                new String[] {"format", "-t", clusterId, "-c", props.toString(), "--ignore-formatted"}, out);
        if (rc != 0) throw new IOException("formatting Kafka storage in " + dataDir + " failed with " + rc);
    }
}
