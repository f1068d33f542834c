package org.imagingpipeline.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads topics the way a check must: up to the end offsets the broker reports at the time of the read, so that the
 * result holds everything acknowledged before it, neither less (a slow reader) nor a guess (a quiet period). Reads
 * read_committed (end offsets are the last stable offsets; aborted transactions are skipped), with assigned partitions
 * and no consumer group, from the beginning of every partition. For tests, the demo and tools: the clients' settings
 * carry the credentials on a secured broker (e.g. {@link KafkaClients#of(String, java.nio.file.Path)} with the local
 * stack's {@code secrets/kafka/cli.properties}); the {@code String bootstrap} forms are for a plaintext broker.
 *
 * <p>The three questions a test asks: what is on the topic now ({@link #readToEnd}); wait until something is there,
 * then everything up to the end ({@link #awaitRecords}); has a consumer group handled everything on its input topics
 * ({@link #awaitConsumed}: its committed offsets passed the last record that is there now).
 */
public final class TopicReader {
    /** How long a read to the end offsets may take before it fails. */
    public static final Duration READ_TIMEOUT = Duration.ofSeconds(120);

    private TopicReader() {
    }

    /** Every record of the topics, from the beginning up to their end offsets at the time of the call; values as bytes. */
    public static List<ConsumerRecord<String, byte[]>> readToEnd(KafkaClients clients, String... topics) {
        return readToEnd(clients, new ByteArrayDeserializer(), topics);
    }

    /** Every record of the topics, from the beginning up to their end offsets at the time of the call. */
    public static <T> List<ConsumerRecord<String, T>> readToEnd(KafkaClients clients, Deserializer<T> values, String... topics) {
        return awaitRecords(clients, values, "the end offsets of " + Arrays.toString(topics), rs -> true, READ_TIMEOUT, topics);
    }

    /**
     * Reads the topics from the beginning as records arrive until {@code until} holds for the records read so far (or
     * fails after {@code timeout}), then reads on up to the end offsets of that moment and returns every record: what
     * the condition waited for, and whatever else was acknowledged by then (a duplicate, a record that should not be).
     */
    public static <T> List<ConsumerRecord<String, T>> awaitRecords(KafkaClients clients, Deserializer<T> values, String what,
                                                                   Predicate<List<ConsumerRecord<String, T>>> until, Duration timeout,
                                                                   String... topics) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ConsumerRecord<String, T>> out = new ArrayList<>();
        try (KafkaConsumer<String, T> c = consumer(clients, new StringDeserializer(), values)) {
            List<TopicPartition> parts = partitions(c, topics);
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            while (!(atEnd(c, end) && until.test(out))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("timed out after " + timeout + " waiting for " + what + " on " + Arrays.toString(topics)
                            + ": " + out.size() + " records read, positions " + positions(c, parts) + ", end offsets " + end);
                }
                for (ConsumerRecord<String, T> r : c.poll(Duration.ofMillis(200))) out.add(r);
                // Caught up with the end offsets of the last look: look again (records keep arriving while we wait).
                if (atEnd(c, end) && !until.test(out)) end = c.endOffsets(parts, Duration.ofSeconds(30));
            }
            // The condition holds: everything up to the end offsets of this moment.
            Map<TopicPartition, Long> now = c.endOffsets(parts, Duration.ofSeconds(30));
            long readDeadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (!atEnd(c, now)) {
                if (System.nanoTime() > readDeadline) {
                    throw new IllegalStateException("could not read " + Arrays.toString(topics) + " up to " + now + " within "
                            + READ_TIMEOUT + "; positions " + positions(c, parts));
                }
                for (ConsumerRecord<String, T> r : c.poll(Duration.ofMillis(200))) out.add(r);
            }
        }
        return out;
    }

    /**
     * Waits until consumer group {@code groupId} has committed, on every partition of the topics, an offset past the
     * last record that is on the partition at the time of the call: the group has handled everything that was produced
     * to them before (a consumer commits after handling, so its outputs are acknowledged by then). Fails after
     * {@code timeout} with the offsets it saw.
     */
    public static void awaitConsumed(KafkaClients clients, String groupId, Duration timeout, String... topics) throws InterruptedException {
        Map<TopicPartition, Long> target = afterLastRecord(clients, topics);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = clients.admin(Map.of(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000",
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000"))) {
            Map<TopicPartition, Long> committed = Map.of();
            while (true) {
                try {
                    committed = committed(admin, groupId);
                } catch (Exception e) {
                    // the coordinator may be loading (a broker just restarted): ask again
                }
                Map<TopicPartition, Long> seen = committed;
                if (target.entrySet().stream().allMatch(e -> e.getValue() == 0 || seen.getOrDefault(e.getKey(), -1L) >= e.getValue())) return;
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("group " + groupId + " did not consume " + Arrays.toString(topics) + " within " + timeout
                            + ": committed " + seen + ", records up to " + target);
                }
                Thread.sleep(200);
            }
        }
    }

    /**
     * Per partition of the topics: the offset after its last record that a read_committed reader sees now (0 when it
     * has none). A consumer that handled that record has committed at least this offset (transaction markers and
     * aborted records after it do not count).
     */
    public static Map<TopicPartition, Long> afterLastRecord(KafkaClients clients, String... topics) {
        Map<TopicPartition, Long> out = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer(clients, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = partitions(c, topics);
            Map<TopicPartition, Long> begin = c.beginningOffsets(parts, Duration.ofSeconds(30));
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            for (TopicPartition tp : parts) {
                long last = -1;
                // Look back from the end in growing windows until a record is found (or the beginning is reached).
                for (long window = 64; last < 0; window *= 8) {
                    long from = Math.max(begin.get(tp), end.get(tp) - window);
                    last = lastRecordOffset(c, tp, from, end.get(tp));
                    if (from == begin.get(tp)) break;
                }
                out.put(tp, last + 1);
            }
        }
        return out;
    }

    // The same reads for a broker without further settings (plaintext, no credentials): tests of one service.

    public static List<ConsumerRecord<String, byte[]>> readToEnd(String bootstrap, String... topics) {
        return readToEnd(KafkaClients.of(bootstrap), topics);
    }

    public static <T> List<ConsumerRecord<String, T>> readToEnd(String bootstrap, Deserializer<T> values, String... topics) {
        return readToEnd(KafkaClients.of(bootstrap), values, topics);
    }

    public static <T> List<ConsumerRecord<String, T>> awaitRecords(String bootstrap, Deserializer<T> values, String what,
                                                                   Predicate<List<ConsumerRecord<String, T>>> until, Duration timeout,
                                                                   String... topics) {
        return awaitRecords(KafkaClients.of(bootstrap), values, what, until, timeout, topics);
    }

    public static void awaitConsumed(String bootstrap, String groupId, Duration timeout, String... topics) throws InterruptedException {
        awaitConsumed(KafkaClients.of(bootstrap), groupId, timeout, topics);
    }

    public static Map<TopicPartition, Long> afterLastRecord(String bootstrap, String... topics) {
        return afterLastRecord(KafkaClients.of(bootstrap), topics);
    }

    private static long lastRecordOffset(KafkaConsumer<byte[], byte[]> c, TopicPartition tp, long from, long end) {
        if (from >= end) return -1;
        c.assign(List.of(tp));
        c.seek(tp, from);
        long last = -1;
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (c.position(tp) < end) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("could not read " + tp + " up to " + end + " within " + READ_TIMEOUT);
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) if (r.offset() < end) last = Math.max(last, r.offset());
        }
        return last;
    }

    private static Map<TopicPartition, Long> committed(Admin admin, String groupId) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(groupId, new ListConsumerGroupOffsetsOptions().requireStable(true))
                .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        Map<TopicPartition, Long> out = new HashMap<>();
        m.forEach((tp, o) -> {
            if (o != null) out.put(tp, o.offset());
        });
        return out;
    }

    private static boolean atEnd(KafkaConsumer<?, ?> c, Map<TopicPartition, Long> end) {
        return end.entrySet().stream().allMatch(e -> c.position(e.getKey()) >= e.getValue());
    }

    private static Map<TopicPartition, Long> positions(KafkaConsumer<?, ?> c, List<TopicPartition> parts) {
        Map<TopicPartition, Long> m = new HashMap<>();
        for (TopicPartition tp : parts) m.put(tp, c.position(tp));
        return m;
    }

    private static List<TopicPartition> partitions(KafkaConsumer<?, ?> c, String... topics) {
        List<TopicPartition> parts = new ArrayList<>();
        for (String t : topics) {
            c.partitionsFor(t, Duration.ofSeconds(30)).forEach(i -> parts.add(new TopicPartition(t, i.partition())));
        }
        if (parts.isEmpty()) throw new IllegalStateException("no partitions for " + Arrays.toString(topics));
        return parts;
    }

    /** A consumer without a group (partitions are assigned), read_committed and no commits (KafkaClients sees to both). */
    private static <K, V> KafkaConsumer<K, V> consumer(KafkaClients clients, Deserializer<K> keys, Deserializer<V> values) {
        // Records of up to 16 MiB (a series of thousands of slices on imaging.series.ready).
        return new KafkaConsumer<>(clients.consumerProperties(Map.of(
                ConsumerConfig.CLIENT_ID_CONFIG, "topic-reader-" + UUID.randomUUID(),
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 32 << 20,
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 << 20)), keys, values);
    }
}
