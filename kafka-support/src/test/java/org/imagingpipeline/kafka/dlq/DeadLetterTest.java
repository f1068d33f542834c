package org.imagingpipeline.kafka.dlq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.imagingpipeline.kafka.KafkaClients;
import org.junit.jupiter.api.Test;

/** How the dead-letter tool reads the headers of both writers (ConsumeLoop, streams' DeadLetters) and its options. */
class DeadLetterTest {
    private static ConsumerRecord<byte[], byte[]> record(Map<String, String> headers, String value) {
        RecordHeaders h = new RecordHeaders();
        headers.forEach((k, v) -> DlqHeaders.add(h, k, v));
        byte[] v = value == null ? null : value.getBytes(StandardCharsets.UTF_8);
        return new ConsumerRecord<>("imaging.streams.dlq", 0, 7, 1_700_000_000_000L, TimestampType.CREATE_TIME, 3, v == null ? 0 : v.length,
                "2.25.9".getBytes(StandardCharsets.UTF_8), v, h, Optional.empty());
    }

    @Test
    void coordinatesParseWithDashesInTopicNames() {
        assertEquals(new RecordRef("imaging.series-ready", 2, 41), RecordRef.parse("imaging.series-ready-2@41").orElseThrow());
        assertEquals("ehr.delivery.dlq-0@5", new RecordRef("ehr.delivery.dlq", 0, 5).toString());
        for (String bad : new String[] {"nonsense", "topic@5", "-1@2", "t-x@1", "t-1@y", ""}) {
            assertTrue(RecordRef.parse(bad).isEmpty(), bad);
        }
        assertTrue(RecordRef.parse(null).isEmpty());
    }

    @Test
    void streamsDeadLettersAreTheirInputAsReadAndConsumeLoopOnesSayWhatTheyHold() {
        DeadLetter streams = DeadLetter.of(record(Map.of(DlqHeaders.REASON, "PIXEL_LIMITS: Rows 30000 > 8192",
                DlqHeaders.SOURCE, "imaging.instances.received-1@12", DlqHeaders.STAGE, "processing"), "x"));
        assertEquals(Boolean.TRUE, streams.valueIsSource(), "written before dlq.value: streams' handlers always wrote the input");
        assertEquals("streams/processing", streams.writer());
        assertEquals("PIXEL_LIMITS", streams.reasonKind());
        assertEquals(new RecordRef("imaging.instances.received", 1, 12), streams.source());
        assertEquals("2.25.9", streams.key());

        DeadLetter derived = DeadLetter.of(record(Map.of(DlqHeaders.REASON, "EHR_REJECTED", DlqHeaders.SOURCE,
                "imaging.segmentation.results-0@3", DlqHeaders.VALUE, "derived", DlqHeaders.LOOP, "fhir-bridge-delivery"), "{}"));
        assertEquals(Boolean.FALSE, derived.valueIsSource());
        assertEquals("fhir-bridge-delivery", derived.writer());

        DeadLetter old = DeadLetter.of(record(Map.of(DlqHeaders.REASON, "NO_MODEL: none", DlqHeaders.SOURCE, "imaging.series.ready-0@1"), "{}"));
        assertNull(old.valueIsSource(), "a ConsumeLoop dead letter of before dlq.value: not known");

        DeadLetter quarantined = DeadLetter.of(record(Map.of(DlqHeaders.REASON, "IDENTITY_MISMATCH: PatientID differs",
                DlqHeaders.STAGE, "processing", DlqHeaders.PROCESSOR, "series-assembly"), "{}"));
        assertNull(quarantined.source());
        assertNull(quarantined.valueIsSource(), "no source: not the input of one record");

        DeadLetter none = DeadLetter.of(record(Map.of(), null));
        assertEquals(DeadLetter.NO_REASON, none.reason());
        assertEquals(0, none.size());
    }

    @Test
    void reasonKindsAndFilters() {
        assertEquals("POISON", DeadLetter.kindOf("POISON: java.lang.IllegalStateException: boom"));
        assertEquals("org.apache.kafka.common.errors.SerializationException",
                DeadLetter.kindOf("org.apache.kafka.common.errors.SerializationException: at line 1"));
        assertEquals("EHR_REJECTED", DeadLetter.kindOf("EHR_REJECTED"));
        assertEquals("output refused by the broker", DeadLetter.kindOf("output refused by the broker"), "no single word: the whole reason");
        DeadLetter d = DeadLetter.of(record(Map.of(DlqHeaders.REASON, "PRODUCTION: output to x refused"), "v"));
        assertTrue(d.hasReason("production"));
        assertTrue(d.hasReason("PRODUCTION: output"));
        assertFalse(d.hasReason("POISON"));
    }

    @Test
    void theListLineNeverHoldsTheValue() {
        String secret = "DOE^JANE";
        DeadLetter d = DeadLetter.of(record(Map.of(DlqHeaders.REASON, "BAD", DlqHeaders.SOURCE, "in-0@1"), secret));
        Map<String, Object> line = d.json(null);
        assertFalse(line.toString().contains(secret), line.toString());
        assertEquals(secret.length(), line.get("size"));
        assertEquals(false, line.get("replayed"));
    }

    @Test
    void selections() {
        assertEquals(new DeadLetterTopic.Offset(0, 12), DeadLetterTopic.Offset.parse("12"));
        assertEquals(new DeadLetterTopic.Offset(2, 5), DeadLetterTopic.Offset.parse("2:5"));
        assertEquals(new DeadLetterTopic.Offset(2, 5), DeadLetterTopic.Offset.parse("2@5"));
        assertThrows(IllegalArgumentException.class, () -> DeadLetterTopic.Offset.parse("x"));
        assertThrows(IllegalArgumentException.class, () -> DeadLetterTopic.Offset.parse("-1:3"));
        assertThrows(IllegalArgumentException.class, () -> new DeadLetterTopic.Selection(Set.of(), null, null, false, null),
                "a replay must say what to replay");
    }

    @Test
    void toolClientsTakeTheKafkaEnvironment() {
        KafkaClients c = KafkaClients.fromEnvironment(Map.of("KAFKA_SECURITY_PROTOCOL", "SASL_SSL", "KAFKA_PORT", "9092",
                "PATH", "/bin", "KAFKA_BOOTSTRAP_SERVERS", "a:1"), Map.of("bootstrap.servers", "b:2"));
        assertEquals("b:2", c.bootstrapServers(), "the tool's option wins");
        assertEquals("SASL_SSL", c.producerProperties(Map.of()).get("security.protocol"));
        assertNull(c.producerProperties(Map.of()).get("port"), "KAFKA_PORT is not a client property");
    }
}
