package org.imagingpipeline.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The consume loop against a real broker: outputs before commits, dead letters with their reason, a transient failure
 * that holds back only its own partition, a poison record dead-lettered after its attempts, everything committed.
 */
class ConsumeLoopTest {
    static final String IN = Topics.SERIES_READY;
    static final String OUT = Topics.SEGMENTATION_RESULTS;
    static final String DLQ = Topics.SEGMENTATION_DLQ;

    @TempDir
    Path dir;

    /** ok:X -> output X; bad:X -> dead letter BAD; flaky:X -> two transient failures, then output; boom:X -> throws. */
    static final class TestHandler implements ConsumeLoop.Handler {
        final List<String> done = Collections.synchronizedList(new ArrayList<>());
        final Map<String, Integer> attempts = Collections.synchronizedMap(new HashMap<>());

        @Override
        public ConsumeLoop.Outcome handle(ConsumerRecord<String, byte[]> r, ConsumeLoop.Attempt attempt) {
            String v = new String(r.value(), StandardCharsets.UTF_8);
            attempts.merge(v, 1, Integer::sum);
            if (v.startsWith("boom:")) throw new IllegalStateException("cannot handle " + v);
            if (v.startsWith("bad:")) return ConsumeLoop.Outcome.deadLetter("BAD", null).then(() -> done.add(v));
            if (v.startsWith("flaky:") && attempt.number() <= 2) return ConsumeLoop.Outcome.retry("transient", "attempt " + attempt.number());
            return ConsumeLoop.Outcome.done(new ProducerRecord<>(OUT, r.key(), v.toUpperCase().getBytes(StandardCharsets.UTF_8)))
                    .then(() -> done.add(v));
        }
    }

    @Test
    void outputsDeadLettersRetriesAndPoisonRecords() throws Exception {
        try (BrokerProcess broker = BrokerProcess.startWithTopics(dir.resolve("kafka"))) {
            KafkaClients clients = KafkaClients.of(broker.bootstrap());
            TestHandler handler = new TestHandler();
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            String group = "loop-test-" + UUID.randomUUID();
            ConsumeLoop.Settings s = ConsumeLoop.Settings.of("test-loop", group, IN, DLQ)
                    .withBackoff(new Backoff(Duration.ofMillis(300), Duration.ofSeconds(2), 2, 0));
            s = new ConsumeLoop.Settings(s.name(), s.groupId(), s.topics(), s.dlqTopic(), s.backoff(), 3, s.ackTimeout(),
                    s.consumerDefaults(), s.producerDefaults());
            try (KafkaProducer<String, byte[]> p = clients.producer(Map.of());
                 ConsumeLoop loop = new ConsumeLoop(clients, s, handler, meters).start()) {
                send(p, 0, "flaky:1", "ok:after-flaky");
                send(p, 1, "ok:a", "bad:b", "ok:c");
                send(p, 2, "boom:d", "ok:e");
                await("every record handled", () -> handler.done.size() == 6 && loop.retryState().equals("none"));
                assertEquals(3, handler.attempts.get("flaky:1"), "two transient failures, then done");
                assertEquals(3, handler.attempts.get("boom:d"), "poison record tried poisonAttempts times");
                assertTrue(handler.done.indexOf("ok:c") < handler.done.indexOf("flaky:1"),
                        "the other partitions moved on while partition 0 waited: " + handler.done);
                assertTrue(handler.done.indexOf("flaky:1") < handler.done.indexOf("ok:after-flaky"), "order within a partition");

                Map<String, String> outputs = new HashMap<>();
                read(clients, OUT, 5).forEach(r -> outputs.put(new String(r.value(), StandardCharsets.UTF_8), r.key()));
                assertEquals(Map.of("FLAKY:1", "k", "OK:AFTER-FLAKY", "k", "OK:A", "k", "OK:C", "k", "OK:E", "k"), outputs);
                Map<String, String> reasons = new HashMap<>();
                for (ConsumerRecord<String, byte[]> r : read(clients, DLQ, 2)) {
                    reasons.put(new String(r.value(), StandardCharsets.UTF_8),
                            new String(r.headers().lastHeader(ConsumeLoop.DLQ_REASON).value(), StandardCharsets.UTF_8));
                    assertTrue(new String(r.headers().lastHeader(ConsumeLoop.DLQ_SOURCE).value(), StandardCharsets.UTF_8)
                            .startsWith(IN + "-"));
                }
                assertEquals("BAD", reasons.get("bad:b"));
                assertTrue(reasons.get("boom:d").startsWith("POISON: java.lang.IllegalStateException"), reasons.toString());

                await("every offset committed", () -> allCommitted(clients, group));
                assertEquals(2.0 + 2.0, meters.get("kafka.loop.retries").tag("loop", "test-loop").counters().stream()
                        .mapToDouble(c -> c.count()).sum(), "2 transient + 2 poison retries");
                assertEquals(2.0, meters.get("kafka.loop.records").tag("outcome", "dead_lettered").counter().count());
                assertEquals(2.0, meters.get("kafka.dlq.records").tag("topic", DLQ).counter().count(), "one counter per DLQ");
                assertEquals(2, loop.deadLettered());
                assertTrue(loop.lastDeadLetter().startsWith("POISON: java.lang.IllegalStateException")
                        || loop.lastDeadLetter().startsWith("BAD"), loop.lastDeadLetter());
            }
        }
    }

    private static void send(KafkaProducer<String, byte[]> p, int partition, String... values) throws Exception {
        for (String v : values) p.send(new ProducerRecord<>(IN, partition, "k", v.getBytes(StandardCharsets.UTF_8))).get();
    }

    private static List<ConsumerRecord<String, byte[]>> read(KafkaClients clients, String topic, int expected) throws Exception {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = clients.consumer(Map.of(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"))) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) c.poll(Duration.ofMillis(200)).forEach(out::add);
        }
        assertEquals(expected, out.size(), "records on " + topic);
        return out;
    }

    private static boolean allCommitted(KafkaClients clients, String group) {
        try (Admin admin = clients.admin(Map.of())) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int i = 0; i < 3; i++) latest.put(new TopicPartition(IN, i), OffsetSpec.latest());
            var ends = admin.listOffsets(latest).all().get();
            return ends.entrySet().stream().allMatch(e -> committed.get(e.getKey()) != null
                    && committed.get(e.getKey()).offset() == e.getValue().offset());
        } catch (Exception e) {
            return false;
        }
    }

    private static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(100);
        }
    }
}
