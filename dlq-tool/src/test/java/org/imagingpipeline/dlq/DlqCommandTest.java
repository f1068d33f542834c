package org.imagingpipeline.dlq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.imagingpipeline.kafka.Backoff;
import org.imagingpipeline.kafka.ConsumeLoop;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.dlq.DlqHeaders;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code ./pipeline dlq} (in-process, its real command line) against test-support's shared broker: records dead-lettered
 * by the real consume loop are listed and replayed, and then processed; a second replay sends nothing; a dead letter
 * without a usable source is refused with its reason; no record value ever reaches the output.
 */
class DlqCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** In every value: must never be printed. */
    private static final String SECRET = "DOE^JANE-19700101";
    private static String bootstrap;

    @BeforeAll
    static void broker() throws Exception {
        bootstrap = BrokerProcess.shared().bootstrap();
    }

    /** Fails records until {@link #fixed}: "asread:" ones dead-lettered as read, "derived:" ones with a value of its own. */
    static final class Stage implements ConsumeLoop.Handler {
        final AtomicBoolean fixed = new AtomicBoolean();
        final List<ConsumerRecord<String, byte[]>> processed = Collections.synchronizedList(new ArrayList<>());

        @Override
        public ConsumeLoop.Outcome handle(ConsumerRecord<String, byte[]> r, ConsumeLoop.Attempt attempt) {
            String v = new String(r.value(), StandardCharsets.UTF_8);
            if (!fixed.get() && v.startsWith("asread:")) return ConsumeLoop.Outcome.deadLetter("BAD_INPUT: attribute X out of range", null);
            if (!fixed.get() && v.startsWith("derived:")) {
                return ConsumeLoop.Outcome.deadLetter("EHR_REJECTED: EHR answered HTTP 403",
                        ("{\"failure\":\"403\",\"result\":\"" + SECRET + "\"}").getBytes(StandardCharsets.UTF_8));
            }
            return ConsumeLoop.Outcome.done().then(() -> processed.add(r));
        }
    }

    @Test
    void deadLettersOfTheConsumeLoopAreListedReplayedOnceAndProcessed() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String in = "dlqtest.in." + id;
        String dlq = "dlqtest.dlq." + id;
        createTopics(in, dlq);
        KafkaClients clients = KafkaClients.of(bootstrap);
        Stage stage = new Stage();
        ConsumeLoop.Settings s = ConsumeLoop.Settings.of("dlqtest-loop-" + id, "dlqtest-" + id, in, dlq)
                .withBackoff(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1), 2, 0));
        try (KafkaProducer<String, byte[]> p = clients.producer(Map.of());
             ConsumeLoop loop = new ConsumeLoop(clients, s, stage, null).start()) {
            for (String v : List.of("asread:1 " + SECRET, "ok:2", "derived:3 " + SECRET)) {
                ProducerRecord<String, byte[]> r = new ProducerRecord<>(in, "2.25." + v.charAt(v.indexOf(':') + 1), v.getBytes(StandardCharsets.UTF_8));
                r.headers().add("traceparent", "00-abc-def-01".getBytes(StandardCharsets.UTF_8));
                p.send(r).get();
            }
            await("two dead letters and one record processed", () -> loop.deadLettered() == 2 && stage.processed.size() == 1);

            // list: every dead letter with its coordinates, reason and source, never its value
            Run list = dlq("list", dlq, "--bootstrap", bootstrap);
            assertEquals(0, list.status, list.err);
            assertEquals(3, list.lines.size(), list.out);
            JsonNode first = list.lines.get(0);
            assertEquals(0, first.get("offset").asInt());
            assertEquals("2.25.1", first.get("key").asText());
            assertEquals("BAD_INPUT", first.get("reason_kind").asText());
            assertEquals(in, first.get("source_topic").asText());
            assertEquals(0, first.get("source_offset").asLong());
            assertEquals("source", first.get("value").asText());
            assertEquals("dlqtest-loop-" + id, first.get("written_by").asText());
            assertFalse(first.get("replayed").asBoolean());
            assertTrue(first.get("size").asInt() > SECRET.length());
            assertTrue(Instant.parse(first.get("time").asText()).isAfter(Instant.now().minusSeconds(600)));
            JsonNode second = list.lines.get(1);
            assertEquals("EHR_REJECTED", second.get("reason_kind").asText());
            assertEquals("derived", second.get("value").asText());
            assertEquals(2, second.get("source_offset").asLong());
            JsonNode summary = list.summary();
            assertEquals(2, summary.get("records").asInt());
            assertEquals(Map.of("BAD_INPUT", 1, "EHR_REJECTED", 1), JSON.convertValue(summary.get("by_reason"), Map.class));
            assertEquals(0, summary.get("replayed").asInt());
            Run filtered = dlq("list", dlq, "--bootstrap", bootstrap, "--reason", "ehr_rejected");
            assertEquals(1, filtered.summary().get("matched").asInt(), filtered.out);
            assertEquals(1, filtered.lines.get(0).get("offset").asInt());
            assertEquals(0, dlq("list", dlq, "--bootstrap", bootstrap, "--since", "2099-01-01").summary().get("matched").asInt());

            long inEnd = endOffset(in);
            Run dry = dlq("replay", dlq, "--bootstrap", bootstrap, "--all", "--dry-run");
            assertEquals(0, dry.status, dry.err);
            assertEquals(2, dry.summary().get("would_replay").asInt(), dry.out);
            assertEquals(inEnd, endOffset(in), "a dry run sends nothing");

            // the cause is fixed: replay both; the stage processes them (the derived one as its original input record)
            stage.fixed.set(true);
            Run replay = dlq("replay", dlq, "--bootstrap", bootstrap, "--all");
            assertEquals(0, replay.status, replay.err);
            assertEquals(2, replay.summary().get("replayed").asInt(), replay.out);
            assertEquals(Map.of(in, 2), JSON.convertValue(replay.summary().get("to"), Map.class));
            await("both replayed records processed", () -> stage.processed.size() == 3);
            List<String> values = stage.processed.stream().map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
            assertEquals(List.of("ok:2", "asread:1 " + SECRET, "derived:3 " + SECRET), values, "the original inputs, not the DLQ's values");
            ConsumerRecord<String, byte[]> replayedDerived = stage.processed.get(2);
            assertEquals(dlq + "-0@1", DlqHeaders.text(replayedDerived.headers(), DlqHeaders.REPLAY_OF));
            assertEquals(in + "-0@2", DlqHeaders.text(replayedDerived.headers(), DlqHeaders.REPLAY_SOURCE));
            assertEquals("00-abc-def-01", DlqHeaders.text(replayedDerived.headers(), "traceparent"), "the input's own headers");
            assertEquals("2.25.3", replayedDerived.key());
            assertEquals(dlq + "-0@0", DlqHeaders.text(stage.processed.get(1).headers(), DlqHeaders.REPLAY_OF));

            // a second replay sends nothing
            long afterReplay = endOffset(in);
            Run again = dlq("replay", dlq, "--bootstrap", bootstrap, "--all");
            assertEquals(0, again.status, again.err);
            assertEquals(0, again.summary().get("replayed").asInt(), again.out);
            assertEquals(2, again.summary().get("already_replayed").asInt());
            assertEquals("already_replayed", again.lines.get(0).get("action").asText());
            assertEquals(afterReplay, endOffset(in), "nothing re-injected twice");
            Run byOffset = dlq("replay", dlq, "--bootstrap", bootstrap, "--offset", "0:1");
            assertEquals(1, byOffset.summary().get("already_replayed").asInt(), byOffset.out);
            assertEquals(afterReplay, endOffset(in));

            Run listed = dlq("list", dlq, "--bootstrap", bootstrap);
            assertEquals(2, listed.summary().get("replayed").asInt());
            assertTrue(listed.lines.get(1).get("replayed_as").asText().startsWith(in + "-0@"), listed.out);

            // a replayed record that fails again is dead-lettered again, saying which dead letter it was replayed from
            stage.fixed.set(false);
            ProducerRecord<String, byte[]> again3 = new ProducerRecord<>(in, "2.25.3", ("asread:4 " + SECRET).getBytes(StandardCharsets.UTF_8));
            again3.headers().add(DlqHeaders.REPLAY_OF, (dlq + "-0@1").getBytes(StandardCharsets.UTF_8));
            p.send(again3).get();
            await("dead-lettered again", () -> loop.deadLettered() == 3);
            Run third = dlq("list", dlq, "--bootstrap", bootstrap, "--reason", "BAD_INPUT");
            assertEquals(dlq + "-0@1", third.lines.get(1).get("replay_of").asText(), third.out);

            for (Run r : List.of(list, filtered, dry, replay, again, byOffset, listed, third)) {
                assertFalse(r.out.contains(SECRET) || r.err.contains(SECRET), "a value was printed: " + r.out + r.err);
            }
        }
    }

    @Test
    void deadLettersWithoutAUsableSourceAreRefusedWithTheirReason() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String in = "dlqtest.src." + id;
        String dlq = "dlqtest.refuse." + id;
        createTopics(in, dlq);
        try (KafkaProducer<String, byte[]> p = KafkaClients.of(bootstrap).producer(Map.of())) {
            p.send(new ProducerRecord<>(in, "k", "kept".getBytes(StandardCharsets.UTF_8))).get();
            // 0: no dlq.source (a quarantined series); 1: a source topic that does not exist; 2: a derived value whose input
            // record is gone; 3: a source written before dlq.value existed, still on its topic; 4: not topic-partition@offset
            p.send(dead(dlq, "IDENTITY_MISMATCH: PatientID differs", null, "derived")).get();
            p.send(dead(dlq, "POISON: x", "no.such.topic." + id + "-0@3", "source")).get();
            p.send(dead(dlq, "UNREADABLE_EVENT", in + "-0@99", "derived")).get();
            p.send(dead(dlq, "OLD", in + "-0@0", null)).get();
            p.send(dead(dlq, "ODD", "nonsense", "source")).get();
        }
        long inEnd = endOffset(in);
        Run r = dlq("replay", dlq, "--bootstrap", bootstrap, "--all");
        assertEquals(1, r.status, "refusals make the exit status 1: " + r.err);
        JsonNode s = r.summary();
        assertEquals(5, s.get("selected").asInt(), r.out);
        assertEquals(4, s.get("refused").asInt());
        assertEquals(Map.of("NO_SOURCE", 2, "UNKNOWN_SOURCE_TOPIC", 1, "SOURCE_GONE", 1), JSON.convertValue(s.get("refused_by"), Map.class));
        assertTrue(r.lines.get(0).get("why").asText().startsWith("NO_SOURCE: the dead letter has no dlq.source header"), r.out);
        assertTrue(r.lines.get(1).get("why").asText().contains("no.such.topic." + id + " does not exist"), r.out);
        assertTrue(r.lines.get(2).get("why").asText().contains("no longer on its topic"), r.out);
        assertEquals(1, s.get("replayed").asInt());
        assertTrue(endOffset(in) > inEnd, "the one with its source still there, read again from the source topic, was re-injected");
        Optional<JsonNode> replayed = r.lines.stream().filter(l -> l.get("action").asText().equals("replayed")).findFirst();
        assertEquals(3, replayed.orElseThrow().get("offset").asInt());

        Run usage = dlq("replay", dlq, "--bootstrap", bootstrap);
        assertEquals(2, usage.status);
        assertTrue(usage.summary().get("error").asText().contains("--offset, --reason or --all"), usage.out);
        Run missing = dlq("list", "dlqtest.missing." + id, "--bootstrap", bootstrap);
        assertEquals(2, missing.status);
        assertTrue(missing.summary().get("error").asText().contains("does not exist"), missing.out);
    }

    private static ProducerRecord<String, byte[]> dead(String dlq, String reason, String source, String value) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(dlq, "k", (reason + " " + SECRET).getBytes(StandardCharsets.UTF_8));
        DlqHeaders.add(r.headers(), DlqHeaders.REASON, reason);
        if (source != null) DlqHeaders.add(r.headers(), DlqHeaders.SOURCE, source);
        if (value != null) DlqHeaders.add(r.headers(), DlqHeaders.VALUE, value);
        return r;
    }

    record Run(int status, String out, String err, List<JsonNode> lines) {
        JsonNode summary() {
            return lines.get(lines.size() - 1);
        }
    }

    private static Run dlq(String... args) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = DlqCommand.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.of(), args);
        String o = out.toString(StandardCharsets.UTF_8);
        List<JsonNode> lines = new ArrayList<>();
        for (String l : o.split("\n")) if (!l.isBlank()) lines.add(JSON.readTree(l));
        return new Run(status, o, err.toString(StandardCharsets.UTF_8), lines);
    }

    private static void createTopics(String... names) throws Exception {
        try (Admin admin = KafkaClients.of(bootstrap).admin(Map.of())) {
            admin.createTopics(java.util.Arrays.stream(names).map(n -> new NewTopic(n, 1, (short) 1)).toList()).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static long endOffset(String topic) throws Exception {
        try (Admin admin = KafkaClients.of(bootstrap).admin(Map.of())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            return admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get(30, TimeUnit.SECONDS).offset();
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(100);
        }
    }
}
