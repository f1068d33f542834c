package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.DomainEvent.Status;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every detector state transition, its evidence and reproducibility, through the real decode + statistics path (phantom DICOM files). */
class DriftDetectorTest {
    static final DriftConfig CONFIG = new DriftConfig(0.01, 3, 6, 499, 7, 200, 6, 3, 0.01, 499, 8);
    static final PhantomSeries.Shift NEW_SCANNER = new PhantomSeries.Shift(0.5, 0.04);
    /** P1..P12 register the KNOWN domain in setUp; P13 is a training patient kept for the undecodable-series test. */
    static final Set<String> TRAINING = IntStream.rangeClosed(1, 13).mapToObj(i -> "SITE A,P" + i).collect(Collectors.toSet());

    @TempDir
    Path tmp;
    private TopologyTestDriver driver;
    private TestInputTopic<String, SeriesReady> in;
    private TestOutputTopic<String, DomainEvent> out;
    private TestInputTopic<String, DomainCommand> commands;
    private SimpleMeterRegistry meters;
    private String known;

    @BeforeEach
    void setUp() throws Exception {
        driver = newDriver(tmp.resolve("state"));
        known = registerTrainingPatients();
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    private TopologyTestDriver newDriver(Path state) {
        meters = new SimpleMeterRegistry();
        StreamsBuilder b = new StreamsBuilder();
        DriftTopology.addTo(b, CONFIG, ReferencePatients.of(TRAINING), meters);
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "drift-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        p.put(StreamsConfig.STATE_DIR_CONFIG, state.toString());
        TopologyTestDriver d = new TopologyTestDriver(b.build(), p, Instant.parse("2026-01-01T00:00:00Z"));
        in = d.createInputTopic(Topics.SERIES_READY, Serdes.String().serializer(), JsonSerde.of(SeriesReady.class));
        out = d.createOutputTopic(Topics.DOMAIN_EVENTS, Serdes.String().deserializer(), JsonSerde.of(DomainEvent.class));
        commands = d.createInputTopic(Topics.DOMAIN_COMMANDS, Serdes.String().serializer(), JsonSerde.of(DomainCommand.class));
        return d;
    }

    private String registerTrainingPatients() throws Exception {
        String id = null;
        for (int i = 1; i <= 12; i++) id = send("Site A", "A-MR", "P" + i, i, PhantomSeries.Shift.NONE).domainId();
        List<DomainEvent> events = out.readValuesToList();
        assertEquals(1, events.size(), "one event: the domain registered as KNOWN");
        DomainEvent e = events.get(0);
        assertEquals(Status.KNOWN, e.status());
        assertNull(e.previousStatus());
        assertTrue(e.reason().contains("training set"), e.reason());
        assertEquals(12, registry().get(id).reference.size());
        return id;
    }

    private SeriesReady send(String institution, String station, String patient, int seed, PhantomSeries.Shift shift) throws Exception {
        SeriesReady s = PhantomSeries.write(tmp.resolve("blobs"), institution, station, patient, seed, shift, 10);
        in.pipeInput(s.seriesInstanceUid(), s);
        return s;
    }

    private KeyValueStore<String, DomainState> registry() {
        return driver.getKeyValueStore(DriftDetector.REGISTRY_STORE);
    }

    @Test
    void aShiftedNewScannerIsConfirmedWithinThreeSeriesWithItsEvidence() throws Exception {
        String id = null;
        for (int i = 1; i <= 3; i++) id = send("Site A", "B-NEW", "Q" + i, 100 + i, NEW_SCANNER).domainId();
        List<DomainEvent> events = out.readValuesToList();
        assertEquals(List.of(Status.CANDIDATE, Status.DRIFT_CONFIRMED), events.stream().map(DomainEvent::status).toList());
        DomainEvent confirmed = events.get(1);
        assertEquals(id, confirmed.domainId());
        assertEquals(Status.CANDIDATE, confirmed.previousStatus());
        assertEquals(2, confirmed.sequence());
        assertEquals(id + "#2", confirmed.eventId());
        assertEquals(3, confirmed.seriesCount());
        DomainEvent.Evidence ev = confirmed.evidence();
        assertEquals(ShrunkHotelling.NAME, ev.test());
        assertTrue(ev.statistic() > 0, "statistic " + ev.statistic());
        assertTrue(ev.pValue() < 0.01, "p " + ev.pValue());
        assertEquals(3, ev.n());
        assertEquals(0.01, ev.threshold());
        assertEquals(known, ev.comparedTo());
        assertTrue(((Map<?, ?>) ev.details().get("perKnownDomain")).containsKey(known), ev.details().toString());
        // readable evidence: which features moved, by how much, with p-values, and the series used
        List<?> moved = (List<?>) ev.details().get("movedFeatures");
        assertFalse(moved.isEmpty());
        Map<?, ?> top = (Map<?, ?>) moved.get(0);
        assertTrue(ImageStatistics.DETECTOR_NAMES.contains(top.get("feature")), top.toString());
        assertTrue(Math.abs(((Number) top.get("shiftSd")).doubleValue()) > 2, "the top feature moved by more than 2 reference SDs: " + top);
        assertTrue(((Number) top.get("pValue")).doubleValue() < 0.01, top.toString());
        assertTrue(((Map<?, ?>) ev.details().get("families")).containsKey(top.get("family")), ev.details().toString());
        assertEquals(3, ((List<?>) ev.details().get("seriesTested")).size());
        assertTrue(confirmed.reason().contains((String) top.get("feature")), confirmed.reason());
        assertNotNull(confirmed.driftScore());
        assertEquals(3, confirmed.seriesUids().size());
        assertEquals(Status.DRIFT_CONFIRMED, registry().get(id).status);
    }

    @Test
    void aNewHeaderKeyWhoseImagesMatchAKnownDomainBecomesAliasAfterMaxSeries() throws Exception {
        String id = null;
        for (int i = 1; i <= 5; i++) id = send("Site A", "C-SAME", "R" + i, 200 + i, PhantomSeries.Shift.NONE).domainId();
        assertEquals(List.of(Status.CANDIDATE), out.readValuesToList().stream().map(DomainEvent::status).toList(), "undecided before max-series");
        DomainState waiting = registry().get(id);
        assertNotNull(waiting.evidence, "tests from min-series on leave their evidence in the registry");
        assertTrue(waiting.evidence.pValue() >= 0.01);
        send("Site A", "C-SAME", "R6", 206, PhantomSeries.Shift.NONE);
        DomainEvent alias = out.readValue();
        assertEquals(Status.ALIAS, alias.status());
        assertEquals(known, alias.aliasOf());
        assertEquals(6, alias.evidence().n());
        assertTrue(alias.evidence().pValue() >= 0.01, "p " + alias.evidence().pValue());
        assertTrue(alias.reason().contains(known), alias.reason());
    }

    @Test
    void heldOutPatientsOfAKnownDomainAreNeverFlaggedButAnIntensityDriftIs() throws Exception {
        for (int i = 1; i <= 9; i++) send("Site A", "A-MR", "H" + i, 300 + i, PhantomSeries.Shift.NONE);
        assertTrue(out.isEmpty(), "held-out patients of a KNOWN domain: no event");
        DomainState d = registry().get(known);
        assertEquals(Status.KNOWN, d.status);
        assertEquals(9, d.monitored);
        assertEquals(12, d.reference.size(), "monitored series never join the reference");
        for (int i = 1; i <= 6; i++) send("Site A", "A-MR", "D" + i, 400 + i, NEW_SCANNER);
        DomainEvent drift = out.readValue();
        assertEquals(Status.DRIFT_CONFIRMED, drift.status());
        assertEquals(Status.KNOWN, drift.previousStatus());
        assertTrue(drift.reason().startsWith("acquisition drift"), drift.reason());
        assertEquals(6, drift.evidence().n());
        assertTrue(drift.evidence().pValue() < 0.01);
        assertEquals(known, drift.evidence().comparedTo());
    }

    @Test
    void approvalMakesADomainKnownAndItsSeriesItsReference() throws Exception {
        String id = send("Site B", "B-NEW", "Q1", 101, NEW_SCANNER).domainId();
        send("Site B", "B-NEW", "Q2", 102, NEW_SCANNER);
        assertEquals(Status.CANDIDATE, out.readValue().status());
        DomainCommand approval = DomainCommand.approve(id, "test-mlops", Instant.parse("2026-01-01T00:00:05Z"));
        commands.pipeInput(id, approval);
        DomainEvent e = out.readValue();
        assertEquals(Status.KNOWN, e.status());
        assertEquals(Status.CANDIDATE, e.previousStatus());
        assertTrue(e.reason().startsWith("approved by ML ops (test-mlops, request " + approval.requestId() + ";"), e.reason());
        assertNull(e.evidence());
        assertEquals(2, registry().get(id).reference.size());
        assertEquals(Status.KNOWN, registry().get(id).status);
        assertEquals(1.0, commandCount("applied"));
    }

    @Test
    void approvingAKnownDomainAgainChangesNothing() throws Exception {
        String id = send("Site B", "B-NEW", "Q1", 101, NEW_SCANNER).domainId();
        assertEquals(Status.CANDIDATE, out.readValue().status());
        DomainCommand approval = DomainCommand.approve(id, "test-mlops", Instant.parse("2026-01-01T00:00:05Z"));
        commands.pipeInput(id, approval);
        assertEquals(Status.KNOWN, out.readValue().status());
        DomainState before = registry().get(id);
        // the same command again (a redelivery), and a second approval by someone else
        commands.pipeInput(id, approval);
        commands.pipeInput(id, DomainCommand.approve(id, "test-admin", Instant.parse("2026-01-01T00:00:06Z")));
        assertTrue(out.isEmpty(), "no second event for a KNOWN domain");
        DomainState after = registry().get(id);
        assertEquals(before.sequence, after.sequence);
        assertEquals(before.reason, after.reason);
        assertEquals(before.reference.size(), after.reference.size());
        assertEquals(1.0, commandCount("applied"));
        assertEquals(2.0, commandCount("already_known"));
    }

    @Test
    void anApprovalOfAnUnknownDomainIsIgnoredAndTheDetectorGoesOn() throws Exception {
        commands.pipeInput("dom-00000000beef", DomainCommand.approve("dom-00000000beef", "test-mlops", Instant.parse("2026-01-01T00:00:05Z")));
        assertTrue(out.isEmpty(), "no event for a domain the registry does not hold");
        assertNull(registry().get("dom-00000000beef"), "nothing registered by an approval");
        assertEquals(1.0, commandCount("unknown_domain"));
        // the detector goes on: the next series is registered
        String id = send("Site B", "B-NEW", "Q1", 101, NEW_SCANNER).domainId();
        assertEquals(Status.CANDIDATE, out.readValue().status());
        assertEquals(Status.CANDIDATE, registry().get(id).status);
    }

    private double commandCount(String outcome) {
        io.micrometer.core.instrument.Counter c = meters.find("streams.domain.commands").tag("outcome", outcome).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aTrainingPatientRescannedOnANewScannerIsNotReference() throws Exception {
        String id = send("Site A", "B-NEW", "P1", 1, NEW_SCANNER).domainId();
        DomainEvent e = out.readValue();
        assertEquals(Status.CANDIDATE, e.status(), "a patient registers the domain it was first seen in only");
        assertEquals(0, registry().get(id).reference.size());
    }

    /** The series as if its blobs could not be read (JPEG-LS transfer syntax, missing files). */
    private static SeriesReady undecodable(SeriesReady good) {
        List<SeriesReady.Instance> missing = good.instances().stream().map(i -> new SeriesReady.Instance(i.sopInstanceUid(), i.sopClassUid(),
                i.instanceNumber(), i.position(), "1.2.840.10008.1.2.4.80", new BlobRef(i.blob().sha256(), "file:/nonexistent/" + i.sopInstanceUid(),
                1, null))).toList();
        return new SeriesReady(1, good.eventId(), 1, good.reason(), good.studyInstanceUid(), good.seriesInstanceUid(), good.domainId(),
                good.fingerprint(), good.header(), missing, null, good.firstReceivedAt(), good.lastReceivedAt(), good.completedAt());
    }

    @Test
    void undecodableSeriesAreRecordedNotSkipped() throws Exception {
        SeriesReady good = PhantomSeries.write(tmp.resolve("blobs"), "Site Z", "Z-MR", "U1", 9, PhantomSeries.Shift.NONE, 3);
        SeriesReady s = undecodable(good);
        in.pipeInput(s.seriesInstanceUid(), s);
        assertEquals(Status.CANDIDATE, out.readValue().status());
        DomainState d = registry().get(s.domainId());
        assertEquals(1, d.seriesCount);
        assertEquals(1, d.unmeasured);
        assertEquals(Map.of("1.2.840.10008.1.2.4.80", 3), d.undecodable);
        assertEquals(1, d.unmeasuredReasons.size());
        assertTrue(d.unmeasuredReasons.get(0).reason().startsWith("1.2.840.10008.1.2.4.80: "), d.unmeasuredReasons.toString());
        assertEquals(s.seriesInstanceUid(), d.unmeasuredReasons.get(0).seriesInstanceUid());
        assertTrue(d.recent.isEmpty());
        in.pipeInput(good.seriesInstanceUid(), good); // a later, decodable revision of the same series
        d = registry().get(s.domainId());
        assertEquals(1, d.seriesCount, "a revision is not a new series");
        assertEquals(0, d.unmeasured);
        assertEquals(1, d.recent.size());
    }

    @Test
    void undecodableSeriesChangeNoDomainsState() throws Exception {
        // a training patient's undecodable series registers nothing; its decodable series later does
        SeriesReady good = PhantomSeries.write(tmp.resolve("blobs"), "Site A", "E-MR", "P13", 13, PhantomSeries.Shift.NONE, 3);
        SeriesReady training = undecodable(good);
        in.pipeInput(training.seriesInstanceUid(), training);
        assertEquals(Status.CANDIDATE, out.readValue().status(), "a new header key, nothing more");
        assertEquals(0, registry().get(training.domainId()).reference.size());
        in.pipeInput(good.seriesInstanceUid(), good);
        assertEquals(Status.KNOWN, out.readValue().status());
        assertEquals(1, registry().get(training.domainId()).reference.size());
        // a CANDIDATE with enough series for a test: undecodable series neither test nor decide it
        String id = null;
        for (int i = 1; i <= 2; i++) id = send("Site A", "B-NEW", "Q" + i, 100 + i, NEW_SCANNER).domainId();
        out.readValuesToList();
        for (int i = 3; i <= 8; i++) {
            SeriesReady bad = undecodable(PhantomSeries.write(tmp.resolve("blobs"), "Site A", "B-NEW", "Q" + i, 100 + i, NEW_SCANNER, 3));
            in.pipeInput(bad.seriesInstanceUid(), bad);
        }
        assertTrue(out.isEmpty(), "no status change from undecodable series");
        DomainState d = registry().get(id);
        assertEquals(Status.CANDIDATE, d.status);
        assertEquals(8, d.seriesCount);
        assertEquals(6, d.unmeasured);
        assertNull(d.evidence, "no test ran");
        // a KNOWN domain's undecodable series: still KNOWN, nothing monitored
        for (int i = 1; i <= 7; i++) {
            SeriesReady bad = undecodable(PhantomSeries.write(tmp.resolve("blobs"), "Site A", "A-MR", "H" + i, 300 + i, NEW_SCANNER, 3));
            in.pipeInput(bad.seriesInstanceUid(), bad);
        }
        assertTrue(out.isEmpty());
        assertEquals(Status.KNOWN, registry().get(known).status);
        assertEquals(0, registry().get(known).monitored);
    }

    @Test
    void aLateRevisionReplacesItsSeriesInsteadOfCountingTwice() throws Exception {
        SeriesReady s = send("Site A", "B-NEW", "Q1", 101, NEW_SCANNER);
        SeriesReady again = new SeriesReady(1, SeriesReady.eventIdFor(s.seriesInstanceUid(), 2), 2, SeriesReady.Reason.LATE_UPDATE,
                s.studyInstanceUid(), s.seriesInstanceUid(), s.domainId(), s.fingerprint(), s.header(), s.instances(), null, s.firstReceivedAt(),
                s.lastReceivedAt(), s.completedAt());
        in.pipeInput(again.seriesInstanceUid(), again);
        assertEquals(1, registry().get(s.domainId()).seriesCount);
        assertEquals(1, registry().get(s.domainId()).recent.size());
    }

    @Test
    void aSeriesSentAgainAfterAPromotionIsNotMeasuredAgain() throws Exception {
        SeriesReady s = send("Site A", "B-NEW", "Q1", 101, NEW_SCANNER);
        DomainState before = registry().get(s.domainId());
        long measured = meters.get("streams.drift.features").timer().count();
        org.apache.kafka.common.header.internals.RecordHeaders replay = new org.apache.kafka.common.header.internals.RecordHeaders();
        replay.add(SeriesReady.REPLAY_HEADER, "promotion of domain x to version 7".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        in.pipeInput(new org.apache.kafka.streams.test.TestRecord<>(s.seriesInstanceUid(), s, replay, Instant.parse("2026-01-01T00:10:00Z")));
        DomainState after = registry().get(s.domainId());
        assertEquals(1, after.seriesCount);
        assertEquals(measured, meters.get("streams.drift.features").timer().count(), "its slices are not decoded and measured again");
        assertEquals(before.lastSeen, after.lastSeen, "the replayed record is not a new acquisition");
        assertEquals(1, after.recent.size());
    }

    @Test
    void decisionsAreReproducible() throws Exception {
        List<DomainEvent.Evidence> runs = new java.util.ArrayList<>();
        for (int run = 0; run < 2; run++) {
            if (run == 1) {
                driver.close();
                driver = newDriver(tmp.resolve("state2"));
                registerTrainingPatients();
            }
            for (int i = 1; i <= 3; i++) send("Site A", "B-NEW", "Q" + i, 100 + i, NEW_SCANNER);
            List<DomainEvent> events = out.readValuesToList();
            runs.add(events.get(events.size() - 1).evidence());
        }
        assertEquals(runs.get(0).statistic(), runs.get(1).statistic());
        assertEquals(runs.get(0).pValue(), runs.get(1).pValue());
    }
}
