package org.imagingpipeline.events;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One Kafka topic of the pipeline: its name, how it is partitioned and kept, and what its records hold.
 * The deploy module creates topics from these specs; docs/topics.md is generated from them.
 *
 * @param name        topic name
 * @param partitions  partition count (records of one key always land in one partition)
 * @param compacted   true for cleanup.policy=compact (latest value per key is kept)
 * @param retention   retention for delete-policy topics; ignored when compacted
 * @param key         what the record key is
 * @param value       what the record value is (event type and schema)
 * @param producer    which module writes it
 * @param consumers   which modules read it
 * @param maxMessageBytes largest record the topic takes (0 = the broker default, 1 MiB)
 */
public record TopicSpec(String name, int partitions, boolean compacted, Duration retention,
                        String key, String value, String producer, String consumers, int maxMessageBytes) {

    public TopicSpec(String name, int partitions, boolean compacted, Duration retention, String key, String value, String producer,
                     String consumers) {
        this(name, partitions, compacted, retention, key, value, producer, consumers, 0);
    }

    public TopicSpec {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("topic name is required");
        if (partitions < 1) throw new IllegalArgumentException("partitions must be >= 1 for " + name);
    }

    /** Topic-level configuration to apply at creation on a single node (one replica). */
    public Map<String, String> configs() {
        return configs(1);
    }

    /**
     * Topic-level configuration for a topic of {@code replicas} replicas: min.insync.replicas is one fewer, at least 1
     * (three replicas: a write with acks=all needs two, so one broker may be down).
     */
    public Map<String, String> configs(int replicas) {
        if (replicas < 1) throw new IllegalArgumentException("replicas must be >= 1");
        Map<String, String> c = new LinkedHashMap<>();
        if (compacted) {
            c.put("cleanup.policy", "compact");
            c.put("min.compaction.lag.ms", "0");
        } else {
            c.put("cleanup.policy", "delete");
            c.put("retention.ms", Long.toString(retention.toMillis()));
        }
        c.put("min.insync.replicas", Integer.toString(minInSyncReplicas(replicas)));
        if (maxMessageBytes > 0) c.put("max.message.bytes", Integer.toString(maxMessageBytes));
        return c;
    }

    /**
     * min.insync.replicas for {@code replicas} replicas: one fewer, at least 1 (3 -> 2: one of three may be down). The
     * topics' rule, the brokers' default (KraftBroker) and the Kubernetes topics' (KafkaChecks).
     */
    public static int minInSyncReplicas(int replicas) {
        return Math.max(1, replicas - 1);
    }

    /** Human-readable retention, as printed in docs/topics.md. */
    public String retentionText() {
        if (compacted) return "compacted (latest per key, kept forever)";
        long days = retention.toDays();
        return days >= 1 && retention.equals(Duration.ofDays(days)) ? days + " days" : retention.toString();
    }
}
