package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.InstanceHeader;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.ConsumeLoop;
import org.imagingpipeline.kafka.TopicReader;
import org.imagingpipeline.streams.deadletter.DeadLetters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streams topology (assembly and drift, as the service runs it) with the service's exception handlers on the
 * TopologyTestDriver; dead letters go to imaging.streams.dlq on a real broker (the handlers' own producer). Each bad
 * record lands in the DLQ with its reason and source, and the next good record is processed.
 */
class StreamsDeadLetterTest extends SharedBrokerTopologyTest {
    private static final DriftConfig DRIFT = new DriftConfig(0.01, 3, 6, 499, 7, 200, 6, 3, 0.01, 499, 4);

    @TempDir
    Path tmp;
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> rawInstances;
    private TestInputTopic<String, InstanceReceived> instances;
    private TestInputTopic<String, SeriesReady> series;
    private TestOutputTopic<String, SeriesReady> ready;
    private TestOutputTopic<String, DomainEvent> domains;
    private TestInputTopic<String, byte[]> rawCommands;

    @BeforeEach
    void setUp() {
        StreamsBuilder b = new StreamsBuilder();
        SeriesAssemblyTopology.addTo(b, new AssemblyConfig(Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofMinutes(5)), new SimpleMeterRegistry());
        DriftTopology.addTo(b, DRIFT, ReferencePatients.of(Set.of()), new SimpleMeterRegistry());
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "dlq-test-" + UUID.randomUUID());
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
        p.put(StreamsConfig.STATE_DIR_CONFIG, tmp.resolve("state").toString());
        withDeadLetterHandlers(p);
        driver = new TopologyTestDriver(b.build(), p, Instant.parse("2026-01-01T00:00:00Z"));
        rawInstances = driver.createInputTopic(Topics.INSTANCES_RECEIVED, Serdes.String().serializer(), Serdes.ByteArray().serializer());
        instances = driver.createInputTopic(Topics.INSTANCES_RECEIVED, Serdes.String().serializer(), JsonSerde.of(InstanceReceived.class));
        series = driver.createInputTopic(Topics.SERIES_READY, Serdes.String().serializer(), JsonSerde.of(SeriesReady.class));
        ready = driver.createOutputTopic(Topics.SERIES_READY, Serdes.String().deserializer(), JsonSerde.of(SeriesReady.class));
        domains = driver.createOutputTopic(Topics.DOMAIN_EVENTS, Serdes.String().deserializer(), JsonSerde.of(DomainEvent.class));
        rawCommands = driver.createInputTopic(Topics.DOMAIN_COMMANDS, Serdes.String().serializer(), Serdes.ByteArray().serializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    @Test
    void anInstanceEventThatCannotBeReadIsDeadLetteredAndTheNextIsAssembled() {
        String bad = uid();
        // a field of the wrong type: JSON, but not an InstanceReceived (the value must not be quoted in the reason)
        byte[] value = ("{\"schemaVersion\":1,\"seriesInstanceUid\":\"" + bad + "\",\"receivedAt\":\"DOE^JOHN\"}").getBytes(StandardCharsets.UTF_8);
        rawInstances.pipeInput(bad, value);
        String good = uid();
        instances.pipeInput(good, instance(good, 1));

        SeriesReady r = ready.readValue();
        assertEquals(good, r.seriesInstanceUid(), "the next record was assembled");
        ConsumerRecord<String, byte[]> dl = deadLetter(bad);
        assertArrayEquals(value, dl.value(), "the record's bytes as read");
        String reason = header(dl, ConsumeLoop.DLQ_REASON);
        assertTrue(reason.startsWith("DESERIALIZATION: org.apache.kafka.common.errors.SerializationException: cannot read InstanceReceived"
                + " from topic imaging.instances.received: InvalidFormatException at line 1 column "), reason);
        assertTrue(reason.contains("receivedAt"), "names the field: " + reason);
        assertFalse(reason.contains("DOE"), "never quotes a value: " + reason);
        assertEquals(Topics.INSTANCES_RECEIVED + "-0@0", header(dl, ConsumeLoop.DLQ_SOURCE));
        assertEquals("deserialization", header(dl, DeadLetters.DLQ_STAGE));
        assertEquals("source", header(dl, "dlq.value"), "the input as read: ./pipeline dlq replay re-injects it as it is");
    }

    @Test
    void aSeriesThatMakesTheExtractorThrowIsDeadLetteredAndTheNextIsMeasured() throws Exception {
        SeriesReady good = PhantomSeries.write(tmp.resolve("blobs"), "Site A", "A-MR", "P1", 1, PhantomSeries.Shift.NONE, 6);
        // a blob reference no path can be made of: the extractor throws (a defect's kind of failure, not a refusal)
        SeriesReady.Instance i0 = good.instances().get(0);
        SeriesReady broken = withInstances(good, uid(), List.of(new SeriesReady.Instance(i0.sopInstanceUid(), i0.sopClassUid(), 1, 0.0,
                i0.transferSyntaxUid(), new BlobRef(i0.blob().sha256(), "file://some-host/not a path", 1, "application/dicom"))));
        series.pipeInput(broken.seriesInstanceUid(), broken);
        series.pipeInput(good.seriesInstanceUid(), good);

        DomainEvent e = domains.readValue();
        assertEquals(good.domainId(), e.domainId(), "the next series reached the detector");
        ConsumerRecord<String, byte[]> dl = deadLetter(broken.seriesInstanceUid());
        assertEquals(broken.seriesInstanceUid(), EventJson.mapper().readValue(dl.value(), SeriesReady.class).seriesInstanceUid());
        String reason = header(dl, ConsumeLoop.DLQ_REASON);
        assertTrue(reason.startsWith("PROCESSING_ERROR: java.lang.IllegalArgumentException"), reason);
        assertEquals(Topics.SERIES_READY + "-0@0", header(dl, ConsumeLoop.DLQ_SOURCE));
        assertEquals("processing", header(dl, DeadLetters.DLQ_STAGE));
        assertTrue(domains.isEmpty());
    }

    @Test
    void aSeriesClaiming30000By30000IsRefusedBeforeDecodingAndTheNextIsMeasured() throws Exception {
        SeriesReady huge = PhantomSeries.write(tmp.resolve("huge"), "Site B", "B-MR", "P2", 2, PhantomSeries.Shift.NONE, 4);
        for (SeriesReady.Instance i : huge.instances()) PhantomSeries.claimSize(Path.of(URI.create(i.blob().uri())), 30000, 30000);
        SeriesReady good = PhantomSeries.write(tmp.resolve("blobs"), "Site A", "A-MR", "P1", 1, PhantomSeries.Shift.NONE, 6);
        series.pipeInput(huge.seriesInstanceUid(), huge);
        series.pipeInput(good.seriesInstanceUid(), good);

        List<DomainEvent> events = domains.readValuesToList();
        assertEquals(List.of(good.domainId()), events.stream().map(DomainEvent::domainId).toList(), "only the good series reached the detector");
        ConsumerRecord<String, byte[]> dl = deadLetter(huge.seriesInstanceUid());
        String reason = header(dl, ConsumeLoop.DLQ_REASON);
        assertTrue(reason.startsWith("PIXEL_LIMITS: series " + huge.seriesInstanceUid() + ", instance "), reason);
        assertTrue(reason.contains("Rows 30000 exceeds the limit 16384 (max-rows)"), reason);
        assertEquals("processing", header(dl, DeadLetters.DLQ_STAGE));
        assertNull(driver.getKeyValueStore(DriftDetector.REGISTRY_STORE).get(huge.domainId()), "the refused series changed no domain");
    }

    @Test
    void aDomainCommandThatCannotBeAppliedIsDeadLetteredAndTheNextApprovalIsApplied() throws Exception {
        SeriesReady s = PhantomSeries.write(tmp.resolve("blobs"), "Site C", "C-MR", "P1", 1, PhantomSeries.Shift.NONE, 6);
        series.pipeInput(s.seriesInstanceUid(), s);
        assertEquals(DomainEvent.Status.CANDIDATE, domains.readValue().status());
        // read, but not applicable: its key is another domain than the one it names (it would reach the wrong registry entry)
        String wrongKey = "dom-bad-" + UUID.randomUUID();
        byte[] bad = JsonSerde.of(DomainCommand.class).serialize(Topics.DOMAIN_COMMANDS, DomainCommand.approve(s.domainId(), "test-mlops", Instant.now()));
        rawCommands.pipeInput(wrongKey, bad);
        // not a command at all
        String garbageKey = "dom-garbage-" + UUID.randomUUID();
        byte[] garbage = "{\"schemaVersion\":1,\"type\":\"DELETE_EVERYTHING\"".getBytes(StandardCharsets.UTF_8);
        rawCommands.pipeInput(garbageKey, garbage);
        rawCommands.pipeInput(s.domainId(), JsonSerde.of(DomainCommand.class).serialize(Topics.DOMAIN_COMMANDS,
                DomainCommand.approve(s.domainId(), "test-mlops", Instant.now())));

        assertEquals(List.of(DomainEvent.Status.KNOWN), domains.readValuesToList().stream().map(DomainEvent::status).toList(),
                "only the good approval changed the registry");
        assertEquals(DomainEvent.Status.KNOWN, driver.<String, DomainState>getKeyValueStore(DriftDetector.REGISTRY_STORE).get(s.domainId()).status);
        ConsumerRecord<String, byte[]> dl = deadLetter(wrongKey);
        assertArrayEquals(bad, dl.value(), "the command's bytes as read");
        assertEquals("BAD_COMMAND: domain command cannot be applied: the key is not the command's domainId", header(dl, ConsumeLoop.DLQ_REASON));
        assertEquals(Topics.DOMAIN_COMMANDS + "-0@0", header(dl, ConsumeLoop.DLQ_SOURCE));
        assertEquals("processing", header(dl, DeadLetters.DLQ_STAGE));
        assertEquals("domain-command-check", header(dl, DeadLetters.DLQ_PROCESSOR));
        ConsumerRecord<String, byte[]> unreadable = deadLetter(garbageKey);
        assertArrayEquals(garbage, unreadable.value());
        assertTrue(header(unreadable, ConsumeLoop.DLQ_REASON).startsWith("DESERIALIZATION: "), header(unreadable, ConsumeLoop.DLQ_REASON));
        assertEquals(Topics.DOMAIN_COMMANDS + "-0@1", header(unreadable, ConsumeLoop.DLQ_SOURCE));
        assertEquals("deserialization", header(unreadable, DeadLetters.DLQ_STAGE));
    }

    private static ConsumerRecord<String, byte[]> deadLetter(String key) {
        List<ConsumerRecord<String, byte[]>> dl = TopicReader.readToEnd(broker.bootstrap(), Topics.STREAMS_DLQ).stream()
                .filter(r -> key.equals(r.key())).toList();
        assertEquals(1, dl.size(), "one dead letter for " + key);
        return dl.get(0);
    }

    private static String header(ConsumerRecord<String, byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static String uid() {
        return "2.25." + Math.abs(UUID.randomUUID().getMostSignificantBits());
    }

    private static SeriesReady withInstances(SeriesReady s, String seriesUid, List<SeriesReady.Instance> instances) {
        return new SeriesReady(s.schemaVersion(), SeriesReady.eventIdFor(seriesUid, 1), 1, s.reason(), s.studyInstanceUid(), seriesUid, s.domainId(),
                s.fingerprint(), s.header(), instances, s.geometry(), s.firstReceivedAt(), s.lastReceivedAt(), s.completedAt());
    }

    /** Instance z of a series announcing one instance, so it is emitted at once. */
    private static InstanceReceived instance(String series, int z) {
        String sop = series + "." + z;
        InstanceHeader h = new InstanceHeader("P1", null, null, "MR", "ACME", "M1", null, 3.0, "DU", null, null, null, null, null, null,
                null, null, null, new double[] {1, 1}, 3.0, null, new double[] {0, 0, z * 3.0}, new double[] {1, 0, 0, 0, 1, 0}, "1.9",
                64, 64, 16, 12, 0, 1, "MONOCHROME2", null, null, null, 1, z, 1, "BRAIN", null);
        String sha = String.format("%064x", (long) sop.hashCode() & 0xffffffffL);
        return new InstanceReceived(1, InstanceReceived.eventIdFor(sop, sha), Instant.parse("2026-01-01T00:00:00Z"),
                new InstanceReceived.Source("DIMSE", "A", "INGEST", "x"), "ST", series, sop, "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.1.2.1", h,
                new BlobRef(sha, "file:/b/" + sha, 1, null));
    }
}
