package org.imagingpipeline.testsupport;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.imagingpipeline.events.TopicSpec;
import org.imagingpipeline.events.Topics;

/**
 * Creates every topic of {@link Topics#ALL} with its documented partitions, retention and compaction, and
 * brings existing topics in line (configs re-applied, partitions only ever increased). Safe to run at
 * every start. With a replication factor above 1 (a cluster) topics get that many replicas and min.insync.replicas one
 * fewer ({@link TopicSpec#configs(int)}).
 */
public final class TopicProvisioner {
    private final Admin admin;
    private final short replicationFactor;

    public TopicProvisioner(Admin admin, short replicationFactor) {
        this.admin = admin;
        this.replicationFactor = replicationFactor;
    }

    public static Admin admin(String bootstrap) {
        return admin(bootstrap, Map.of());
    }

    /** An admin client of {@code bootstrap} with {@code security} settings (e.g. {@code KafkaSecrets#adminProperties}). */
    public static Admin admin(String bootstrap, Map<String, String> security) {
        Properties p = new Properties();
        p.putAll(security);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        return Admin.create(p);
    }

    /** Ensures all topics; returns the names it created (existing ones are reconciled). */
    public List<String> ensure(Collection<TopicSpec> specs) throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
        Set<String> existing = admin.listTopics().names().get(20, TimeUnit.SECONDS);
        List<NewTopic> toCreate = new ArrayList<>();
        for (TopicSpec s : specs) {
            if (!existing.contains(s.name())) {
                toCreate.add(new NewTopic(s.name(), s.partitions(), replicationFactor).configs(s.configs(replicationFactor)));
            }
        }
        if (!toCreate.isEmpty()) {
            admin.createTopics(toCreate).all().get(30, TimeUnit.SECONDS);
        }
        List<TopicSpec> present = specs.stream().filter(s -> existing.contains(s.name())).toList();
        if (!present.isEmpty()) reconcile(present);
        return toCreate.stream().map(NewTopic::name).toList();
    }

    private void reconcile(List<TopicSpec> specs) throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
        Map<String, TopicDescription> d = admin.describeTopics(specs.stream().map(TopicSpec::name).toList())
                .allTopicNames().get(20, TimeUnit.SECONDS);
        Map<String, NewPartitions> grow = specs.stream()
                .filter(s -> d.get(s.name()).partitions().size() < s.partitions())
                .collect(Collectors.toMap(TopicSpec::name, s -> NewPartitions.increaseTo(s.partitions())));
        if (!grow.isEmpty()) admin.createPartitions(grow).all().get(20, TimeUnit.SECONDS);
        Map<ConfigResource, Collection<AlterConfigOp>> ops = specs.stream().collect(Collectors.toMap(
                s -> new ConfigResource(ConfigResource.Type.TOPIC, s.name()),
                s -> s.configs(replicationFactor).entrySet().stream()
                        .map(e -> new AlterConfigOp(new ConfigEntry(e.getKey(), e.getValue()), AlterConfigOp.OpType.SET))
                        .toList()));
        admin.incrementalAlterConfigs(ops).all().get(20, TimeUnit.SECONDS);
    }

    /** The catalogue's partitions whose in-sync replicas are fewer than their replicas ("topic-partition"). */
    static List<String> underReplicated(Admin admin) throws ExecutionException, InterruptedException, java.util.concurrent.TimeoutException {
        Map<String, TopicDescription> d = admin.describeTopics(Topics.ALL.stream().map(TopicSpec::name).toList())
                .allTopicNames().get(20, TimeUnit.SECONDS);
        List<String> behind = new ArrayList<>();
        d.values().forEach(t -> t.partitions().forEach(p -> {
            if (p.isr().size() < p.replicas().size()) behind.add(t.name() + "-" + p.partition());
        }));
        return behind;
    }

    /**
     * Polls {@link #underReplicated} twice a second until it is empty or {@code atMost} has passed (at least one look);
     * a failed look (a node or the controller still starting) counts as not in sync yet. Returns the last look's list,
     * or every catalogued topic's name when no look succeeded.
     */
    public static List<String> awaitInSync(Admin admin, java.time.Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        List<String> behind = Topics.ALL.stream().map(TopicSpec::name).toList();
        while (true) {
            try {
                behind = underReplicated(admin);
                if (behind.isEmpty()) return behind;
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                // not answering yet: look again
            }
            if (System.nanoTime() >= deadline) return behind;
            Thread.sleep(500);
        }
    }

    /** {@code TopicProvisioner --bootstrap HOST:PORT}: ensures the catalogue, prints what it did. */
    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new Cli()).execute(args));
    }

    @picocli.CommandLine.Command(name = "topics", mixinStandardHelpOptions = true,
            description = "Creates or reconciles every topic of the catalogue (events' Topics) on a broker; with --secrets "
                    + "also the Kafka users and ACLs (KafkaAccess), connecting as the provisioning identity (a super user).")
    static final class Cli implements java.util.concurrent.Callable<Integer> {
        @picocli.CommandLine.Option(names = "--bootstrap", defaultValue = "127.0.0.1:9092",
                description = "bootstrap servers (default: ${DEFAULT-VALUE}); with --secrets the broker's internal listener")
        String bootstrap;

        @picocli.CommandLine.Option(names = "--secrets",
                description = "PIPELINE_HOME/secrets of a secured broker (KafkaSecrets): connect with its admin certificate, "
                        + "then set every principal's SCRAM credential and the ACLs")
        java.nio.file.Path secrets;

        @picocli.CommandLine.Option(names = "--replication-factor", defaultValue = "1",
                description = "replicas of every topic it creates (min.insync.replicas one fewer, at least 1); existing "
                        + "topics keep their replicas (default: ${DEFAULT-VALUE})")
        short replicationFactor;

        @picocli.CommandLine.Option(names = "--await-isr", paramLabel = "SECONDS",
                description = "change nothing: wait at most SECONDS (0: look once) until every partition of the catalogue "
                        + "has all its replicas in sync (a restarted node has caught up), polling twice a second in this "
                        + "one process; exit 0 when it has, 3 when not")
        Integer awaitIsrSeconds;

        @Override
        public Integer call() throws Exception {
            org.imagingpipeline.testsupport.kafka.KafkaSecrets ks =
                    secrets == null ? null : org.imagingpipeline.testsupport.kafka.KafkaSecrets.at(secrets);
            try (Admin admin = admin(bootstrap, ks == null ? Map.of() : ks.adminProperties())) {
                if (awaitIsrSeconds != null) {
                    List<String> behind = awaitInSync(admin, java.time.Duration.ofSeconds(Math.max(0, awaitIsrSeconds)));
                    System.err.printf("topics: %d partitions not fully in sync%s%n", behind.size(), behind.isEmpty() ? "" : ": " + behind);
                    return behind.isEmpty() ? 0 : 3;
                }
                List<String> created = new TopicProvisioner(admin, replicationFactor).ensure(Topics.ALL);
                System.err.printf("topics: %d in catalogue, created %s%n", Topics.ALL.size(), created);
                if (ks != null) {
                    var r = new org.imagingpipeline.testsupport.kafka.AccessProvisioner(admin, ks).ensure();
                    System.err.printf("kafka access: %d users' SCRAM credentials set, %d ACLs created, %d stale ACLs deleted%n",
                            r.users(), r.aclsCreated(), r.aclsDeleted());
                }
            }
            return 0;
        }
    }
}
