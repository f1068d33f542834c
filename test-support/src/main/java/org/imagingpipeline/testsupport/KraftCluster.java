package org.imagingpipeline.testsupport;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.testsupport.kafka.AccessProvisioner;
import org.imagingpipeline.testsupport.kafka.KafkaSecrets;

/**
 * A Kafka cluster of {@code n} {@link KraftBroker} nodes, each broker and controller in its own JVM ({@link BrokerProcess}),
 * on loopback ports, with one cluster id, a static controller quorum of all nodes, and {@code n} replicas per topic
 * (min.insync.replicas one fewer): what {@code ./pipeline up --brokers 3} runs, for tests that kill a node. Secured as the
 * single broker is when given a secrets folder (every node presents the local CA's broker certificate).
 */
public final class KraftCluster implements AutoCloseable {
    private final List<BrokerProcess> nodes;
    private final List<Integer> ports;
    private final List<Integer> internalPorts;
    private final KafkaSecrets secrets;

    private KraftCluster(List<BrokerProcess> nodes, List<Integer> ports, List<Integer> internalPorts, KafkaSecrets secrets) {
        this.nodes = nodes;
        this.ports = ports;
        this.internalPorts = internalPorts;
        this.secrets = secrets;
    }

    /**
     * Starts {@code n} nodes (data under {@code dir/node-1..n}), waits until every one answers, then creates every
     * catalogued topic with {@code n} replicas and, when {@code secretsFolder} is given, the users and ACLs.
     */
    public static KraftCluster startWithTopics(Path dir, int n, Path secretsFolder) throws Exception {
        if (n < 1) throw new IllegalArgumentException("a cluster needs at least one node");
        KafkaSecrets secrets = secretsFolder == null ? null : KafkaSecrets.ensure(secretsFolder);
        Set<Integer> taken = new HashSet<>();
        List<Integer> ports = new ArrayList<>(), controllers = new ArrayList<>(), internals = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ports.add(distinctFreePort(taken));
            controllers.add(distinctFreePort(taken));
            internals.add(secrets == null ? 0 : distinctFreePort(taken));
        }
        String voters = java.util.stream.IntStream.range(0, n)
                .mapToObj(i -> (i + 1) + "@127.0.0.1:" + controllers.get(i)).collect(Collectors.joining(","));
        String clusterId = Uuid.randomUuid().toString();
        List<BrokerProcess> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            nodes.add(new BrokerProcess(dir.resolve("node-" + (i + 1)), ports.get(i), controllers.get(i), secrets, internals.get(i),
                    List.of("--node-id", Integer.toString(i + 1), "--voters", voters, "--cluster-id", clusterId,
                            "--replication", Integer.toString(n))));
        }
        KraftCluster cluster = new KraftCluster(nodes, ports, internals, secrets);
        try {
            for (BrokerProcess b : nodes) b.launch(); // a node answers only once a quorum runs: launch all, then wait
            for (BrokerProcess b : nodes) b.awaitStarted();
            try (Admin admin = cluster.admin()) {
                new TopicProvisioner(admin, (short) n).ensure(Topics.ALL);
                if (secrets != null) new AccessProvisioner(admin, secrets).ensure();
            }
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private static int distinctFreePort(Set<Integer> taken) throws IOException {
        int p;
        do {
            p = BrokerProcess.freePort();
        } while (!taken.add(p));
        return p;
    }

    /** Node {@code id} (1-based, as its node.id). */
    public BrokerProcess node(int id) {
        return nodes.get(id - 1);
    }

    public int size() {
        return nodes.size();
    }

    /** The Kafka credentials of a secured cluster; null when it runs plaintext. */
    public KafkaSecrets secrets() {
        return secrets;
    }

    /** Every node's client listener, comma-separated (a client finds the cluster through any running one). */
    public String bootstrap() {
        return ports.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    /** The bootstrap list and, when secured, {@code principal}'s SASL_SSL settings. */
    public Map<String, String> clientProperties(String principal) {
        return BrokerProcess.clientProperties(bootstrap(), secrets, principal);
    }

    /** An admin client with every right, through all nodes: plaintext, or the provisioning identity on the internal listeners. */
    public Admin admin() {
        if (secrets == null) return TopicProvisioner.admin(bootstrap());
        String internal = internalPorts.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
        return TopicProvisioner.admin(internal, secrets.adminProperties());
    }

    /**
     * Stops every node at once (SIGTERM to all, then waits): one at a time, the last node would wait for a controller
     * quorum that is already gone.
     */
    @Override
    public void close() throws InterruptedException {
        List<Thread> stopping = new ArrayList<>();
        for (BrokerProcess b : nodes) {
            Thread t = new Thread(() -> {
                try {
                    b.stop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "stop-" + b.dataDir().getFileName());
            t.start();
            stopping.add(t);
        }
        for (Thread t : stopping) t.join();
    }
}
