package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.TagFromName;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.imagingpipeline.testsupport.SharedTestData;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.testsupport.auth.TestTokens;
import org.imagingpipeline.simulator.ScannerSimulator;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.InstanceHeader;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.TopicReader;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The drift detector on a real broker, from instance events to imaging.domain.events and GET /domains: DU registered
 * KNOWN from 30 training patients (reference file), held-out DU patients never flagged, DU patients through the
 * simulated "newscanner" profile DRIFT_CONFIRMED within 3 series, the real new sites CS and HT decided (DRIFT_CONFIRMED or
 * ALIAS) with evidence within 5, the shared vendor DICOMs distinct domains; approval makes HT KNOWN.
 */
@QuarkusTest
@QuarkusTestResource(value = DriftServiceTest.Broker.class, restrictToAnnotatedClass = true)
class DriftServiceTest {
    static final Path DATA = SharedTestData.root();

    public static class Broker extends BrokerResource {
        static BrokerProcess broker;
        static Path home;
        static List<String> duPatients;

        @Override
        protected void started(BrokerProcess b, Path h) {
            broker = b;
            home = h;
        }

        @Override
        protected Map<String, String> settings(Path h) throws Exception {
            Path du = DATA.resolve("lgg-flair/DU");
            try (Stream<Path> s = Files.isDirectory(du) ? Files.list(du) : Stream.empty()) {
                duPatients = s.map(p -> p.getFileName().toString()).sorted().toList();
            }
            Path refs = h.resolve("reference-patients.csv");
            Files.writeString(refs, "# DU training patients (the first 30)\n"
                    + duPatients.stream().limit(30).map(p -> "DU," + p).collect(Collectors.joining("\n")) + "\n");
            // Every event announces its series' instance count (see send), so a series completes when its last instance
            // arrives; the inactivity fallback is set far beyond any pause of a loaded machine, so that it never cuts a
            // series short.
            return Map.of("streams.drift.reference-file", refs.toString(), "streams.assembly.inactivity", "10m");
        }
    }

    @ConfigProperty(name = "quarkus.http.test-port")
    int httpPort;
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void newSitesAndScannersAreDecidedWithEvidenceAndTheKnownSiteIsNeverFlagged() throws Exception {
        requireData();
        Path blobs = Broker.home.resolve("blobs");
        Files.createDirectories(blobs);
        try (KafkaProducer<String, InstanceReceived> producer = producer()) {
            sendSimulated(producer, blobs, List.of("DU"), 30, null, p -> true);
            String du = awaitDomain(d -> "DU".equals(d.path("fingerprint").path("institution").asText())
                    && d.path("imageStatistics").path("referenceSeries").asInt() == 30, Duration.ofMinutes(4)).path("id").asText();
            Set<String> heldOut = Set.copyOf(Broker.duPatients.subList(30, 35));
            sendSimulated(producer, blobs, List.of("DU"), 35, null, p -> heldOut.contains(p));
            sendSimulated(producer, blobs, List.of("DU"), 3, "newscanner", p -> true);
            sendSimulated(producer, blobs, List.of("CS"), 5, null, p -> true);
            sendSimulated(producer, blobs, List.of("HT"), 8, null, p -> true);
            for (String vendor : List.of("ge-mr", "siemens-mr", "philips-mr", "uih-mr", "ge-ct")) sendFiles(producer, DATA.resolve("dicom-vendors").resolve(vendor));

            JsonNode profile = awaitDomain(d -> d.path("fingerprint").path("station").asText().equals("SIM NEWSCANNER")
                    && !d.path("status").asText().equals("CANDIDATE"), Duration.ofMinutes(3));
            JsonNode cs = awaitDomain(d -> "CS".equals(d.path("fingerprint").path("institution").asText())
                    && !d.path("status").asText().equals("CANDIDATE"), Duration.ofMinutes(2));
            JsonNode ht = awaitDomain(d -> "HT".equals(d.path("fingerprint").path("institution").asText())
                    && !d.path("status").asText().equals("CANDIDATE"), Duration.ofMinutes(2));
            JsonNode known = awaitDomain(d -> d.path("id").asText().equals(du) && d.path("seriesCount").asInt() == 35, Duration.ofMinutes(1));

            assertEquals("KNOWN", known.path("status").asText(), "held-out DU patients never flag DU: " + known);
            assertEquals(30, known.path("imageStatistics").path("referenceSeries").asInt());
            assertEquals(5, known.path("imageStatistics").path("monitoredSeries").asInt());
            assertDecision(profile, "DRIFT_CONFIRMED", 3, du);
            for (JsonNode site : List.of(cs, ht)) {
                assertTrue(Set.of("DRIFT_CONFIRMED", "ALIAS").contains(site.path("status").asText()), site.toString());
                assertDecision(site, site.path("status").asText(), 5, du);
            }

            Set<String> expected = Set.of("GE MEDICAL SYSTEMS/MR", "SIEMENS/MR", "PHILIPS MEDICAL SYSTEMS/MR", "UIH/MR", "GE MEDICAL SYSTEMS/CT");
            List<JsonNode> vendors = awaitVendorDomains(expected, Duration.ofMinutes(2));
            Set<String> scanners = vendors.stream().map(DriftServiceTest::scanner).collect(Collectors.toSet());
            assertTrue(scanners.containsAll(expected), "each vendor its own domain: " + scanners);
            assertEquals(vendors.size(), vendors.stream().map(v -> v.path("id").asText()).distinct().count());
            for (JsonNode v : vendors) {
                assertTrue(v.path("imageStatistics").path("unmeasuredSeries").asInt() == 0, "vendor images decoded: " + v);
            }

            HttpResponse<String> approve = http.send(HttpRequest.newBuilder(url("/domains/" + ht.path("id").asText() + "/approve"))
                    .header("Authorization", TestTokens.bearer("mlops")).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, approve.statusCode(), approve.body());
            awaitDomain(d -> d.path("id").asText().equals(ht.path("id").asText()) && d.path("status").asText().equals("KNOWN"), Duration.ofMinutes(2));

            // GET /domains may show the approval before its event is committed: wait for HT's third event on the topic.
            Map<String, List<DomainEvent>> events = domainEvents(e -> e.getOrDefault(ht.path("id").asText(), List.of()).size() >= 3);
            assertEquals(List.of(DomainEvent.Status.KNOWN), events.get(du).stream().map(DomainEvent::status).toList(), "DU: registered, never flagged");
            DomainEvent csDecision = events.get(cs.path("id").asText()).get(1);
            assertEquals(DomainEvent.Status.valueOf(cs.path("status").asText()), csDecision.status());
            assertNotNull(csDecision.evidence());
            assertEquals(List.of(DomainEvent.Status.CANDIDATE, DomainEvent.Status.valueOf(ht.path("status").asText()), DomainEvent.Status.KNOWN),
                    events.get(ht.path("id").asText()).stream().map(DomainEvent::status).toList());
            String metrics = get("/q/metrics");
            assertTrue(metrics.contains("streams_series_assembled_total"), "series assembled metric");
            assertTrue(metrics.contains("streams_domains{status=\"DRIFT_CONFIRMED\"}"), "domains by status metric");
            // The gauges count this application's registry, not an earlier application's in the same JVM (CI run 6).
            assertEquals(domainsByStatus(), awaitGaugesEqualTo(domainsByStatus(), Duration.ofSeconds(30)), "streams_domains gauges");
            assertTrue(metrics.contains("streams_drift_detector_seconds_count"), "detector latency metric");
        }
    }

    private static void assertDecision(JsonNode d, String status, int withinSeries, String known) {
        assertEquals(status, d.path("status").asText(), d.toString());
        JsonNode ev = d.path("evidence");
        assertEquals(ShrunkHotelling.NAME, ev.path("test").asText(), d.toString());
        assertTrue(ev.path("details").path("movedFeatures").size() > 0, "the features that moved: " + d);
        assertTrue(ev.path("n").asInt() >= 3 && ev.path("n").asInt() <= withinSeries, "decided within " + withinSeries + ": " + d);
        assertTrue(ev.has("statistic") && ev.has("pValue") && ev.has("threshold"), d.toString());
        assertEquals(known, ev.path("comparedTo").asText());
        assertTrue(d.path("driftScore").isNumber(), d.toString());
    }

    private static void requireData() {
        SharedTestData.require("lgg-flair", "DU");
        SharedTestData.require("dicom-vendors", "ge-ct");
    }

    private static KafkaProducer<String, InstanceReceived> producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Broker.broker.bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(p, new StringSerializer(), JsonSerde.of(InstanceReceived.class));
    }

    /** The scanner simulator's series of the given sites' first N patients (those the filter keeps), as instance events. */
    private static void sendSimulated(KafkaProducer<String, InstanceReceived> producer, Path blobs, List<String> sites, int perSite, String profile,
                                      Predicate<String> patient) throws Exception {
        List<Part10> files = new ArrayList<>();
        for (ScannerSimulator.Instance i : ScannerSimulator.convert(DATA.resolve("lgg-flair"), sites, perSite, profile, 1)) {
            if (!patient.test(i.label().split("/")[1])) continue;
            String sha = sha256(i.part10());
            Path f = blobs.resolve(sha);
            Files.write(f, i.part10());
            files.add(new Part10(i.part10(), new BlobRef(sha, f.toUri().toString(), i.part10().length, "application/dicom")));
        }
        send(producer, files);
    }

    private static void sendFiles(KafkaProducer<String, InstanceReceived> producer, Path dir) throws Exception {
        List<Part10> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".dcm")).sorted().toList()) {
                byte[] b = Files.readAllBytes(f);
                files.add(new Part10(b, new BlobRef(sha256(b), f.toUri().toString(), b.length, "application/dicom")));
            }
        }
        send(producer, files);
    }

    private record Part10(byte[] bytes, BlobRef blob) {
    }

    /**
     * The files as instance events, each announcing its series' number of instances (ImagesInAcquisition), so that a
     * series is complete when its last instance arrives, however slowly the sender runs (inactivity is the fallback for
     * series without a count, tested in StreamsServiceTest).
     */
    private static void send(KafkaProducer<String, InstanceReceived> producer, List<Part10> files) throws Exception {
        List<AttributeList> headers = new ArrayList<>();
        Map<String, Set<String>> perSeries = new LinkedHashMap<>();
        for (Part10 f : files) {
            AttributeList l = new AttributeList();
            l.read(new DicomInputStream(new ByteArrayInputStream(f.bytes())), TagFromName.PixelData);
            headers.add(l);
            perSeries.computeIfAbsent(s(l, TagFromName.SeriesInstanceUID), k -> new java.util.HashSet<>()).add(s(l, TagFromName.SOPInstanceUID));
        }
        for (int i = 0; i < files.size(); i++) {
            AttributeList l = headers.get(i);
            BlobRef blob = files.get(i).blob();
            String series = s(l, TagFromName.SeriesInstanceUID), sop = s(l, TagFromName.SOPInstanceUID);
            InstanceReceived e = new InstanceReceived(1, InstanceReceived.eventIdFor(sop, blob.sha256()), Instant.now(),
                    new InstanceReceived.Source("DIMSE", "TEST", "INGEST", "127.0.0.1"), s(l, TagFromName.StudyInstanceUID), series, sop,
                    s(l, TagFromName.SOPClassUID), s(l, TagFromName.TransferSyntaxUID), header(l, perSeries.get(series).size()), blob);
            producer.send(new ProducerRecord<>(Topics.INSTANCES_RECEIVED, series, e));
        }
        producer.flush();
    }

    /** The header fields the fingerprint and ordering use (ingest's HeaderExtractor does this in the stack). */
    private static InstanceHeader header(AttributeList l, int imagesInAcquisition) {
        return new InstanceHeader(s(l, TagFromName.PatientID), null, null, s(l, TagFromName.Modality), s(l, TagFromName.Manufacturer),
                s(l, TagFromName.ManufacturerModelName), s(l, TagFromName.SoftwareVersions), d(l, new AttributeTag(0x0018, 0x0087)),
                s(l, TagFromName.InstitutionName), s(l, TagFromName.StationName), s(l, TagFromName.ProtocolName), s(l, TagFromName.SeriesDescription),
                null, s(l, new AttributeTag(0x0018, 0x0020)), d(l, TagFromName.RepetitionTime), d(l, TagFromName.EchoTime),
                d(l, new AttributeTag(0x0018, 0x0082)), d(l, new AttributeTag(0x0018, 0x1314)), ds(l, TagFromName.PixelSpacing),
                d(l, TagFromName.SliceThickness), null, ds(l, TagFromName.ImagePositionPatient), ds(l, TagFromName.ImageOrientationPatient),
                s(l, TagFromName.FrameOfReferenceUID), null, null, null, null, null, null, null, null, null, null, null,
                Attribute.getSingleIntegerValueOrDefault(l, TagFromName.InstanceNumber, 0), imagesInAcquisition, null, null);
    }

    private static String s(AttributeList l, AttributeTag t) {
        String v = Attribute.getSingleStringValueOrNull(l, t);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static Double d(AttributeList l, AttributeTag t) {
        String v = s(l, t);
        return v == null ? null : Double.valueOf(v);
    }

    private static double[] ds(AttributeList l, AttributeTag t) {
        Attribute a = l.get(t);
        try {
            return a == null || a.getVM() == 0 ? null : a.getDoubleValues();
        } catch (Exception e) {
            return null;
        }
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private JsonNode awaitDomain(Predicate<JsonNode> match, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            last = get("/domains");
            if (last.startsWith("[")) for (JsonNode d : EventJson.mapper().readTree(last)) if (match.test(d)) return d;
            Thread.sleep(500);
        }
        throw new AssertionError("no domain matched within " + timeout + "; GET /domains: " + last);
    }

    /** GET /domains counted by status (every status, 0 where none). */
    private Map<String, Long> domainsByStatus() throws Exception {
        Map<String, Long> n = new java.util.TreeMap<>();
        for (DomainEvent.Status st : DomainEvent.Status.values()) n.put(st.name(), 0L);
        for (JsonNode d : EventJson.mapper().readTree(get("/domains"))) n.merge(d.path("status").asText(), 1L, Long::sum);
        return n;
    }

    /** The {@code streams_domains} gauges from /q/metrics, once they equal {@code expected} or the timeout passed. */
    private Map<String, Long> awaitGaugesEqualTo(Map<String, Long> expected, Duration timeout) throws Exception {
        java.util.regex.Pattern line = java.util.regex.Pattern.compile("(?m)^streams_domains\\{status=\"([A-Z_]+)\"} ([0-9.eE+-]+|NaN)$");
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, Long> gauges = new java.util.TreeMap<>();
        do {
            gauges.clear();
            java.util.regex.Matcher m = line.matcher(get("/q/metrics"));
            while (m.find()) gauges.put(m.group(1), m.group(2).equals("NaN") ? -1L : (long) Double.parseDouble(m.group(2)));
            if (gauges.equals(expected)) return gauges;
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        return gauges;
    }

    private static String scanner(JsonNode d) {
        return d.path("fingerprint").path("manufacturer").asText() + "/" + d.path("fingerprint").path("modality").asText();
    }

    /** The domains not from lgg-flair, once every expected manufacturer/modality has one (or the timeout). */
    private List<JsonNode> awaitVendorDomains(Set<String> expected, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<JsonNode> found = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            found.clear();
            for (JsonNode d : EventJson.mapper().readTree(get("/domains"))) {
                String inst = d.path("fingerprint").path("institution").asText();
                if (!Set.of("DU", "CS", "HT").contains(inst)) found.add(d);
            }
            if (found.stream().map(DriftServiceTest::scanner).collect(Collectors.toSet()).containsAll(expected)) return found;
            Thread.sleep(500);
        }
        return found;
    }

    /**
     * The domain events by domain, once {@code until} holds for them: everything on the topic up to its end offsets at
     * that moment (a second decision or a late duplicate produced by then is in it).
     */
    private Map<String, List<DomainEvent>> domainEvents(Predicate<Map<String, List<DomainEvent>>> until) {
        List<ConsumerRecord<String, DomainEvent>> records = TopicReader.awaitRecords(Broker.broker.bootstrap(), JsonSerde.of(DomainEvent.class),
                "the expected domain events", rs -> until.test(byDomain(rs)), Duration.ofMinutes(2), Topics.DOMAIN_EVENTS);
        return byDomain(records);
    }

    private static Map<String, List<DomainEvent>> byDomain(List<ConsumerRecord<String, DomainEvent>> records) {
        Map<String, List<DomainEvent>> out = new LinkedHashMap<>();
        records.forEach(r -> out.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value()));
        return out;
    }

    private URI url(String path) {
        return URI.create("http://127.0.0.1:" + httpPort + path);
    }

    private String get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(url(path)).header("Authorization", TestTokens.bearer("viewer")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
