package org.imagingpipeline.events;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class EventContractTest {
    static InstanceReceived sample() {
        InstanceHeader h = new InstanceHeader("PID-1", "HOSP", "ACC1", "MR", "SIEMENS", "Skyra", "syngo MR E11", 3.0, "DU", "AWP1",
                "t2_flair", "FLAIR ax", "*tir2d1", "SE\\IR", 9000.0, 81.0, 2500.0, 150.0, new double[] {0.5, 0.5}, 5.0, 6.0,
                new double[] {-100, -120, 30}, new double[] {1, 0, 0, 0, 1, 0}, "1.2.3.9", 256, 256, 16, 12, 0, 1, "MONOCHROME2",
                null, 1.0, 0.0, 4, 12, 24, "BRAIN", "20240101");
        BlobRef blob = new BlobRef("a".repeat(64), "file:///tmp/x", 1234, "application/dicom");
        return new InstanceReceived(InstanceReceived.SCHEMA_VERSION, InstanceReceived.eventIdFor("1.2.3.4", blob.sha256()),
                Instant.parse("2026-01-02T03:04:05.678Z"), new InstanceReceived.Source("DIMSE", "STORESCU", "INGEST", "/127.0.0.1:5000"),
                "1.2.3.1", "1.2.3.2", "1.2.3.4", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.1.2.1", h, blob);
    }

    @Test
    void instanceReceivedRoundTripsThroughJson() {
        JsonSerde<InstanceReceived> serde = JsonSerde.of(InstanceReceived.class);
        InstanceReceived e = sample();
        byte[] json = serde.serialize("t", e);
        String text = new String(json, StandardCharsets.UTF_8);
        assertTrue(text.contains("\"schemaVersion\":1"), text);
        assertTrue(text.contains("\"receivedAt\":\"2026-01-02T03:04:05.678Z\""), "ISO-8601 instants: " + text);
        assertFalse(text.contains("numberOfFrames"), "nulls are left out");
        InstanceReceived back = serde.deserialize("t", json);
        assertEquals(e.sopInstanceUid(), back.sopInstanceUid());
        assertEquals(e.blob(), back.blob());
        assertArrayEquals(e.header().imageOrientationPatient(), back.header().imageOrientationPatient());
        assertEquals(e.header().magneticFieldStrength(), back.header().magneticFieldStrength());
    }

    @Test
    void unknownFieldsFromANewerProducerAreIgnored() {
        String json = new String(JsonSerde.of(InstanceReceived.class).serialize("t", sample()), StandardCharsets.UTF_8)
                .replaceFirst("\\{", "{\"addedInSchema2\":{\"x\":1},");
        assertEquals("1.2.3.4", JsonSerde.of(InstanceReceived.class).deserialize("t", json.getBytes(StandardCharsets.UTF_8)).sopInstanceUid());
    }

    @Test
    void garbageIsASerializationErrorNamingTheTopic() {
        SerializationException e = assertThrows(SerializationException.class,
                () -> JsonSerde.of(InstanceReceived.class).deserialize("imaging.instances.received", "{not json".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("imaging.instances.received"));
    }

    @Test
    void eventIdIsDeterministicPerInstanceAndBytes() {
        assertEquals(InstanceReceived.eventIdFor("1.2", "ab"), InstanceReceived.eventIdFor("1.2", "ab"));
        assertNotEquals(InstanceReceived.eventIdFor("1.2", "ab"), InstanceReceived.eventIdFor("1.2", "ac"));
        assertNotEquals(InstanceReceived.eventIdFor("1.2", "ab"), InstanceReceived.eventIdFor("1.3", "ab"));
    }

    @Test
    void blobRefRefusesABadDigest() {
        assertThrows(IllegalArgumentException.class, () -> new BlobRef("XYZ", "file:/x", 1, null));
        assertThrows(IllegalArgumentException.class, () -> new BlobRef("A".repeat(64), "file:/x", 1, null));
    }

    @Test
    void catalogueNamesAreUniqueAndTheRegistryTopicIsCompacted() {
        HashSet<String> names = new HashSet<>();
        Topics.ALL.forEach(t -> assertTrue(names.add(t.name()), "duplicate " + t.name()));
        assertEquals("compact", Topics.byName(Topics.MODEL_VERSIONS).orElseThrow().configs().get("cleanup.policy"));
        assertEquals("604800000", Topics.byName(Topics.INSTANCES_RECEIVED).orElseThrow().configs().get("retention.ms"));
    }

    @Test
    void docsTopicsMdIsGeneratedFromTheCatalogue() throws Exception {
        Path docs = Path.of(System.getProperty("pipeline.repo.root", "..")).resolve("docs/topics.md");
        String text = Files.readString(docs);
        assertEquals(TopicDocs.render(text), text,
                "docs/topics.md is stale: run java -cp events/target/classes org.imagingpipeline.events.TopicDocs docs/topics.md");
    }

    @Test
    void domainAndModelEventsRoundTrip() {
        DomainEvent d = new DomainEvent(DomainEvent.SCHEMA_VERSION, DomainEvent.eventIdFor("dom-0123456789ab", 2), 2, "dom-0123456789ab",
                DomainEvent.Status.CANDIDATE, DomainEvent.Status.DRIFT_CONFIRMED, "MMD", java.util.Map.of("manufacturer", "GE"), 3,
                Instant.parse("2026-01-01T00:00:00Z"), Instant.parse("2026-01-01T00:10:00Z"), 0.4,
                new DomainEvent.Evidence("kernel-mmd-permutation", 0.12, 0.001, 3, 0.01, "dom-aaaaaaaaaaaa", java.util.Map.of("permutations", 999)),
                null, java.util.List.of("1.2", "1.3"), Instant.parse("2026-01-01T00:10:01Z"));
        DomainEvent db = JsonSerde.of(DomainEvent.class).deserialize("t", JsonSerde.of(DomainEvent.class).serialize("t", d));
        assertEquals(d, db);
        ModelVersion m = new ModelVersion(ModelVersion.SCHEMA_VERSION, ModelVersion.eventIdFor("dom-0123456789ab", "v2", ModelVersion.Status.PROMOTED),
                "dom-0123456789ab", "v2", "lgg-flair-unet", "file:///m.onnx", "b".repeat(64), ModelVersion.Status.PROMOTED, "adabn",
                "c".repeat(64), "d".repeat(64), 5, java.util.Map.of("decision", "promoted"),
                new ModelVersion.Serving("v2", "file:///m.onnx", "b".repeat(64)), Instant.parse("2026-01-01T00:00:00Z"));
        ModelVersion mb = JsonSerde.of(ModelVersion.class).deserialize("t", JsonSerde.of(ModelVersion.class).serialize("t", m));
        assertEquals(m, mb);
        assertTrue(ModelVersion.isRoutingKey(ModelVersion.routingKey("dom-0123456789ab")));
        assertFalse(ModelVersion.isRoutingKey(ModelVersion.historyKey("dom-0123456789ab", "v2")));
    }

    @Test
    void replayPredecessorHeaderRoundTripsAndRefusesWhatIsNotAUid() {
        ReplayPredecessor p = new ReplayPredecessor("1.2.3", "2.25.11", "2.25.12", "v7");
        assertEquals(Optional.of(p), ReplayPredecessor.fromHeader(p.toHeader()));
        // what reaches an SR must be DICOM UIDs: anything else is ignored, never written
        for (String bad : List.of("1.2.03", "1..2", "1.2.3a", "1.2.3\\0", "9".repeat(65), "")) {
            assertEquals(Optional.empty(), ReplayPredecessor.fromHeader(new ReplayPredecessor("1.2.3", "2.25.11", bad, "v7").toHeader()), bad);
        }
        assertEquals(Optional.empty(), ReplayPredecessor.fromHeader("not json".getBytes(StandardCharsets.UTF_8)));
        assertEquals(Optional.empty(), ReplayPredecessor.fromHeader(null));
        assertEquals(Optional.empty(), ReplayPredecessor.fromHeader(new byte[2048]));
    }
}
