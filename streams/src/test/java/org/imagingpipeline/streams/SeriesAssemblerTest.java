package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.InstanceHeader;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SeriesAssemblerTest {
    private static final AssemblyConfig CONFIG = new AssemblyConfig(Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofMinutes(5));
    private TopologyTestDriver driver;
    private final io.micrometer.core.instrument.simple.SimpleMeterRegistry meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    private TestInputTopic<String, InstanceReceived> in;
    private TestOutputTopic<String, SeriesReady> out;

    @BeforeEach
    void setUp() {
        useConfig(CONFIG);
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    @Test
    void instancesArrivingOutOfOrderAreEmittedInSliceOrderAfterInactivity() {
        for (int z : new int[] {3, 1, 4, 2}) send("S1", z, null, "x");
        driver.advanceWallClockTime(Duration.ofSeconds(5));
        assertTrue(out.isEmpty(), "not complete before the inactivity timeout");
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        SeriesReady r = out.readValue();
        assertEquals(SeriesReady.Reason.INACTIVITY, r.reason());
        assertEquals(1, r.revision());
        assertEquals(List.of("S1.1", "S1.2", "S1.3", "S1.4"), r.instances().stream().map(SeriesReady.Instance::sopInstanceUid).toList());
        assertEquals(2.5, r.geometry().sliceSpacing(), 1e-9, "spacing measured from positions");
        assertTrue(r.geometry().consistent());
        assertEquals("S1#1", r.eventId());
        assertTrue(r.domainId().startsWith("dom-"));
        assertEquals("ACME", r.fingerprint().get("manufacturer"));
        driver.advanceWallClockTime(Duration.ofSeconds(30));
        assertTrue(out.isEmpty(), "emitted once");
    }

    @Test
    void aSeriesIsCompleteAsSoonAsTheAnnouncedCountArrives() {
        send("S2", 1, 3, "a");
        send("S2", 2, 3, "a");
        assertTrue(out.isEmpty());
        send("S2", 3, 3, "a");
        SeriesReady r = out.readValue();
        assertEquals(SeriesReady.Reason.EXPECTED_COUNT, r.reason());
        assertEquals(3, r.instances().size());
        driver.advanceWallClockTime(Duration.ofSeconds(20));
        assertTrue(out.isEmpty(), "no second emission on inactivity");
    }

    @Test
    void redeliveredEventsChangeNothingAndLateInstancesBecomeARevision() {
        send("S3", 1, null, "a");
        send("S3", 2, null, "a");
        send("S3", 2, null, "a"); // redelivery: same eventId
        driver.advanceWallClockTime(Duration.ofSeconds(11));
        assertEquals(2, out.readValue().instances().size());
        send("S3", 3, null, "a"); // late
        driver.advanceWallClockTime(Duration.ofSeconds(11));
        SeriesReady update = out.readValue();
        assertEquals(SeriesReady.Reason.LATE_UPDATE, update.reason());
        assertEquals(2, update.revision());
        assertEquals(3, update.instances().size(), "the update carries the whole series");
        assertEquals("S3#2", update.eventId());
    }

    @Test
    void aLargeSeriesNeverMakesAnOversizedStateRecord() {
        for (int z = 1; z <= 2000; z++) send("S5", z, null, "a");
        driver.advanceWallClockTime(Duration.ofSeconds(11));
        SeriesReady r = out.readValue();
        assertEquals(2000, r.instances().size());
        byte[] summary = JsonSerde.of(SeriesState.class).serialize("t", driver.<String, SeriesState>getKeyValueStore(SeriesAssembler.SERIES_STORE).get("S5"));
        assertTrue(summary.length < 10_000, "per-series state stays small: " + summary.length + " bytes");
    }

    @Test
    void completedSeriesAreForgottenAfterTheRetention() {
        send("S4", 1, 1, "a");
        assertNotNull(out.readValue());
        KeyValueStore<String, SeriesState> store = driver.getKeyValueStore(SeriesAssembler.SERIES_STORE);
        assertNotNull(store.get("S4"));
        KeyValueStore<String, InstanceEntry> entries = driver.getKeyValueStore(SeriesAssembler.INSTANCE_STORE);
        assertNotNull(entries.get("S4/S4.1"));
        driver.advanceWallClockTime(Duration.ofMinutes(6));
        assertNull(store.get("S4"));
        assertNull(entries.get("S4/S4.1"), "its instances are forgotten too");
    }

    @Test
    void aSeriesWhoseInstancesDisagreeOnThePatientIsQuarantinedNotReported() {
        TestOutputTopic<String, byte[]> dlq = driver.createOutputTopic(Topics.STREAMS_DLQ, Serdes.String().deserializer(),
                Serdes.ByteArray().deserializer());
        send("S5", 1, 2, "x", "PAT-A", "ST1");
        send("S5", 2, 2, "x", "PAT-B", "ST1");
        send("S6", 1, 2, "x", "PAT-C", "ST6");
        send("S6", 2, 2, "x", "PAT-C", "ST7");
        send("S7", 1, 1, "x");
        assertEquals(List.of("S7"), out.readKeyValuesToList().stream().map(kv -> kv.key).toList(), "only the consistent series is reported");
        var quarantined = dlq.readRecordsToList();
        assertEquals(List.of("S5", "S6"), quarantined.stream().map(r -> r.key()).toList());
        String reason = new String(quarantined.get(0).headers().lastHeader("dlq.reason").value(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals("IDENTITY_MISMATCH: instance S5.2 disagrees with the series' first instance on PatientID; the series is not reported", reason);
        assertTrue(!reason.contains("PAT-"), "never the values");
        assertTrue(new String(quarantined.get(1).headers().lastHeader("dlq.reason").value(), java.nio.charset.StandardCharsets.UTF_8)
                .contains("on StudyInstanceUID;"));
        // a late instance re-emits the series: still quarantined
        send("S5", 3, 2, "x", "PAT-A", "ST1");
        driver.advanceWallClockTime(Duration.ofSeconds(11));
        assertTrue(out.isEmpty());
        assertEquals(List.of("S5"), dlq.readRecordsToList().stream().map(r -> r.key()).toList());
        // counted like every other dead letter (metric streams_dlq_records_total{stage="quarantine"}, readiness detail)
        assertEquals(3.0, meters.get("streams.dlq.records").tag("stage", "quarantine").counter().count());
    }

    // ---- ingest's sender-done marker (an association released, a STOW-RS request ended)

    private static final AssemblyConfig WITH_MARKERS = new AssemblyConfig(Duration.ofSeconds(30), Duration.ofSeconds(1),
            Duration.ofMinutes(5), Duration.ofSeconds(1));

    @Test
    void aSeriesIsCompleteAGraceAfterItsSendersMarkerWithoutWaitingForInactivity() {
        useConfig(WITH_MARKERS);
        for (int z : new int[] {2, 1, 3}) send("M1", z, null, "a");
        driver.advanceWallClockTime(Duration.ofMillis(500));
        assertTrue(out.isEmpty(), "no marker yet");
        senderDone("M1");
        assertTrue(out.isEmpty(), "the grace runs first");
        driver.advanceWallClockTime(Duration.ofMillis(1100));
        SeriesReady r = out.readValue();
        assertEquals(SeriesReady.Reason.SENDER_DONE, r.reason());
        assertEquals(1, r.revision());
        assertEquals(List.of("M1.1", "M1.2", "M1.3"), r.instances().stream().map(SeriesReady.Instance::sopInstanceUid).toList());
        driver.advanceWallClockTime(Duration.ofSeconds(40));
        assertTrue(out.isEmpty(), "emitted once: the inactivity timeout adds no second emission");
    }

    @Test
    void anInstanceAfterTheMarkerWaitsForItsOwnSendersMarker() {
        useConfig(WITH_MARKERS);
        send("M2", 1, null, "a");
        senderDone("M2");
        send("M2", 2, null, "a"); // a second association goes on with the series within the grace
        driver.advanceWallClockTime(Duration.ofSeconds(3));
        assertTrue(out.isEmpty(), "the first marker no longer counts");
        senderDone("M2");
        driver.advanceWallClockTime(Duration.ofMillis(1100));
        SeriesReady r = out.readValue();
        assertEquals(SeriesReady.Reason.SENDER_DONE, r.reason());
        assertEquals(2, r.instances().size());
        // later instances of another association: a LATE_UPDATE revision, again a grace after its marker
        send("M2", 3, null, "a");
        senderDone("M2");
        driver.advanceWallClockTime(Duration.ofMillis(1100));
        SeriesReady late = out.readValue();
        assertEquals(SeriesReady.Reason.LATE_UPDATE, late.reason());
        assertEquals(2, late.revision());
        assertEquals(3, late.instances().size());
        assertTrue(out.isEmpty());
    }

    @Test
    void aMarkerForAnUnknownOrEmittedSeriesChangesNothing() {
        useConfig(WITH_MARKERS);
        senderDone("NEVER-SEEN"); // every instance of it was refused by ingest
        driver.advanceWallClockTime(Duration.ofSeconds(2));
        assertTrue(out.isEmpty());
        send("M3", 1, 1, "a"); // complete by ImagesInAcquisition
        assertEquals(SeriesReady.Reason.EXPECTED_COUNT, out.readValue().reason());
        senderDone("M3");
        driver.advanceWallClockTime(Duration.ofSeconds(40));
        assertTrue(out.isEmpty(), "no second emission");
    }

    @Test
    void withoutSenderDoneTheMarkerIsIgnoredAndInactivityDecides() {
        // CONFIG: the three-argument settings, markers off
        send("M4", 1, null, "a");
        senderDone("M4");
        driver.advanceWallClockTime(Duration.ofSeconds(5));
        assertTrue(out.isEmpty());
        driver.advanceWallClockTime(Duration.ofSeconds(6));
        assertEquals(SeriesReady.Reason.INACTIVITY, out.readValue().reason());
    }

    /** A fresh driver (and topics) for these settings. */
    private void useConfig(AssemblyConfig config) {
        if (driver != null) driver.close();
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "assembly-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(SeriesAssemblyTopology.build(config, meters), p, Instant.parse("2026-01-01T00:00:00Z"));
        in = driver.createInputTopic(Topics.INSTANCES_RECEIVED, Serdes.String().serializer(), JsonSerde.of(InstanceReceived.class));
        out = driver.createOutputTopic(Topics.SERIES_READY, Serdes.String().deserializer(), JsonSerde.of(SeriesReady.class));
    }

    /** Ingest's marker: key SeriesInstanceUID, null value, header pipeline.sender.done. */
    private void senderDone(String series) {
        org.apache.kafka.common.header.internals.RecordHeaders h = new org.apache.kafka.common.header.internals.RecordHeaders();
        h.add(InstanceReceived.SENDER_DONE_HEADER, "A-RELEASE".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        in.pipeInput(new org.apache.kafka.streams.test.TestRecord<String, InstanceReceived>(series, null, h));
    }

    private void send(String series, int z, Integer expected, String bytesVersion) {
        send(series, z, expected, bytesVersion, "P1", "ST1");
    }

    private void send(String series, int z, Integer expected, String bytesVersion, String patientId, String study) {
        String sop = series + "." + z;
        InstanceHeader h = new InstanceHeader(patientId, null, null, "MR", "ACME", "M1", null, 3.0, "DU", null, null, null, null, null,
                null, null, null, null, new double[] {1, 1}, 2.5, null, new double[] {0, 0, z * 2.5}, new double[] {1, 0, 0, 0, 1, 0},
                "1.9", 64, 64, 16, 12, 0, 1, "MONOCHROME2", null, null, null, 1, z, expected, "BRAIN", null);
        String sha = String.format("%064x", (long) (sop + bytesVersion).hashCode() & 0xffffffffL);
        BlobRef blob = new BlobRef(sha, "file:/blobs/" + sha, 100, "application/dicom");
        in.pipeInput(series, new InstanceReceived(1, InstanceReceived.eventIdFor(sop, sha), Instant.parse("2026-01-01T00:00:00Z"),
                new InstanceReceived.Source("DIMSE", "A", "INGEST", "x"), study, series, sop, "1.2.840.10008.5.1.4.1.1.4",
                "1.2.840.10008.1.2.1", h, blob));
    }
}
