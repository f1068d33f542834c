package org.imagingpipeline.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.network.StorageSOPClassSCU;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.imagingpipeline.dicomnet.AssociateRequest;
import org.imagingpipeline.dicomnet.DicomTls;
import org.imagingpipeline.dicomnet.Part10;
import org.imagingpipeline.dicomnet.Pdu;
import org.imagingpipeline.dicomnet.PduReader;
import org.imagingpipeline.dicomnet.PduWriter;
import org.imagingpipeline.dicomnet.StoreScu;
import org.imagingpipeline.dicomnet.TransferSyntaxes;
import org.imagingpipeline.events.AuditEvent;
import org.imagingpipeline.events.InstanceReceived;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The SCP against real DICOM peers (dcmtk echoscu/storescu, PixelMed's SCU) and a real broker: every shared
 * vendor file arrives once, headers match dcmdump, bad input is refused and counted, a broker outage is
 * answered with failures and no event, and a re-send after it arrives exactly once.
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaStack.class, restrictToAnnotatedClass = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DimseIngestTest {
    /** Per transfer-syntax file: the storescu option that proposes its syntax as it is (no transcoding). */
    private static final Map<String, String> TS_OPTION = Map.of(
            "1.dcm", "-xe", "2.dcm", "-xi", "3.dcm", "-xb", "4.dcm", "-xr", "5.dcm", "-xs", "6.dcm", "-xs",
            "7.dcm", "-xt", "8.dcm", "-xt", "9.dcm", "-xv");
    private static final List<String> VENDOR_FOLDERS = List.of("ge-mr", "siemens-mr", "philips-mr", "uih-mr", "ge-ct");

    @ConfigProperty(name = "quarkus.http.test-port")
    int httpPort;

    @Test
    @Order(1)
    void echoAnswers() throws Exception {
        DicomTools.Result r = DicomTools.echo(KafkaStack.dicomPort, "ECHOSCU");
        assertEquals(0, r.exitCode(), r.output());
    }

    @Test
    @Order(2)
    void everySharedVendorFileArrivesOnceWithItsHeader() throws Exception {
        Path vendors = SharedData.dicomVendors();
        for (String folder : VENDOR_FOLDERS) {
            DicomTools.Result r = DicomTools.store(KafkaStack.dicomPort, "STORESCU", List.of("-R", "+sd", "+r", "-nh"),
                    List.of(vendors.resolve(folder)));
            assertFalse(r.output().contains("Store Failed"), folder + ": " + tail(r.output()));
        }
        for (Map.Entry<String, String> e : TS_OPTION.entrySet()) {
            Path f = vendors.resolve("transfer-syntaxes/In").resolve(e.getKey());
            DicomTools.Result r = DicomTools.store(KafkaStack.dicomPort, "STORESCU", List.of(e.getValue()), List.of(f));
            assertEquals(0, r.exitCode(), r.output());
            assertFalse(r.output().contains("Store Failed"), f + ": " + r.output());
        }

        Map<String, Path> files = dicomFilesBySop(vendors);
        assertEquals(892, files.size(), "the shared set has 892 DICOM files (README)");
        List<InstanceReceived> events = KafkaStack.allEvents();
        Map<String, Long> perSop = events.stream().collect(Collectors.groupingBy(InstanceReceived::sopInstanceUid, Collectors.counting()));
        assertEquals(files.keySet(), perSop.keySet(), "one event for every file, none for anything else");
        assertTrue(perSop.values().stream().allMatch(n -> n == 1), "exactly one event per SOP Instance UID");
        // Every association's A-RELEASE is followed by a sender-done marker per series it stored, after their instances.
        List<KafkaStack.Marker> markers = KafkaStack.senderDoneMarkers();
        assertEquals(events.stream().map(InstanceReceived::seriesInstanceUid).collect(Collectors.toSet()),
                markers.stream().map(KafkaStack.Marker::seriesUid).collect(Collectors.toSet()), "a marker for every series stored, no other");
        assertTrue(markers.stream().allMatch(m -> m.how().equals("A-RELEASE")), markers.toString());
        // A series sent in several associations or requests has a marker after each; its last one follows every instance.
        assertTrue(KafkaStack.lastMarkerPerSeries(markers).values().stream().allMatch(KafkaStack.Marker::afterItsInstances), markers.toString());

        // Header fields against dcmdump: the first file of each folder and every transfer-syntax file.
        Map<String, InstanceReceived> bySop = events.stream().collect(Collectors.toMap(InstanceReceived::sopInstanceUid, e -> e));
        List<Path> sample = new ArrayList<>();
        for (String folder : VENDOR_FOLDERS) {
            sample.add(files.values().stream().filter(p -> p.startsWith(vendors.resolve(folder))).sorted().findFirst().orElseThrow());
        }
        files.values().stream().filter(p -> p.startsWith(vendors.resolve("transfer-syntaxes"))).forEach(sample::add);
        for (Path f : sample) {
            Map<String, String> d = DicomTools.dcmdump(f);
            InstanceReceived e = bySop.get(d.get("0008,0018"));
            assertNotNull(e, "event for " + f);
            assertHeaderMatches(f, d, e);
            byte[] stored = Files.readAllBytes(Path.of(URI.create(e.blob().uri())));
            assertEquals(e.blob().size(), stored.length);
            assertEquals(InstanceIngestor.sha256(stored), e.blob().sha256(), "blob is content-addressed");
        }
    }

    @Test
    @Order(3)
    void resentInstancesAreAcknowledgedWithoutASecondEvent() throws Exception {
        Path siemens = SharedData.dicomVendors().resolve("siemens-mr");
        int before = KafkaStack.allEvents().size();
        double dupBefore = metric("ingest_instances_duplicate_total");
        DicomTools.Result r = DicomTools.store(KafkaStack.dicomPort, "STORESCU", List.of("-R", "+sd", "+r", "-nh"), List.of(siemens));
        assertFalse(r.output().contains("Store Failed"), r.output());
        assertEquals(before, KafkaStack.allEvents().size(), "no new events for re-sent instances");
        assertEquals(dupBefore + 8, metric("ingest_instances_duplicate_total"), 0.0);
    }

    @Test
    @Order(4)
    void disallowedCallingAeIsRejectedAndCounted() throws Exception {
        double before = metric("ingest_instances_rejected_total{reason=\"calling_ae_not_allowed\"}");
        DicomTools.Result r = DicomTools.echo(KafkaStack.dicomPort, "INTRUDER");
        assertTrue(r.exitCode() != 0, "echo from a disallowed AE must fail: " + r.output());
        assertTrue(r.output().toLowerCase().contains("rejected"), r.output());
        assertEquals(before + 1, metric("ingest_instances_rejected_total{reason=\"calling_ae_not_allowed\"}"), 0.0);
        assertEquals(0, DicomTools.echo(KafkaStack.dicomPort, "ECHOSCU").exitCode(), "still serving");
    }

    @Test
    @Order(5)
    void truncatedAndNonDicomDataAreRefusedQuarantinedAndTheScpKeepsServing() throws Exception {
        Path src = SharedData.dicomVendors().resolve("transfer-syntaxes/In/1.dcm");
        byte[] whole = Files.readAllBytes(src);
        Path dir = Files.createTempDirectory("bad-input");
        Path truncated = dir.resolve("truncated.dcm");
        Files.write(truncated, Arrays.copyOf(whole, whole.length - 5000));
        AttributeList meta = readHeader(src);
        String sopClass = Attribute.getSingleStringValueOrNull(meta, TagFromName.SOPClassUID);
        String sop = Attribute.getSingleStringValueOrNull(meta, TagFromName.SOPInstanceUID);

        double malformedBefore = metric("ingest_instances_rejected_total{reason=\"malformed\"}");
        int eventsBefore = KafkaStack.allEvents().size();
        // PixelMed's SCU streams the file's bytes as they are, so the truncated dataset reaches the SCP.
        sendWithPixelMed(truncated, sopClass, sop + ".77");

        // A Part-10 header followed by bytes that are not a dataset.
        Path garbage = dir.resolve("garbage.dcm");
        byte[] metaBytes = Arrays.copyOf(whole, metaLength(whole));
        byte[] junk = "this is a text file, not a DICOM data set\n".repeat(50).getBytes();
        byte[] g = new byte[metaBytes.length + junk.length];
        System.arraycopy(metaBytes, 0, g, 0, metaBytes.length);
        System.arraycopy(junk, 0, g, metaBytes.length, junk.length);
        Files.write(garbage, g);
        sendWithPixelMed(garbage, sopClass, sop + ".78");

        assertEquals(malformedBefore + 2, metric("ingest_instances_rejected_total{reason=\"malformed\"}"), 0.0);
        assertEquals(eventsBefore, KafkaStack.allEvents().size(), "no event for refused input");
        try (Stream<Path> q = Files.walk(KafkaStack.home.resolve("ingest/quarantine"))) {
            assertTrue(q.filter(p -> p.toString().endsWith("-malformed-" + "") || p.getFileName().toString().contains("-malformed-")).count() >= 4,
                    "bytes and reason of both kept in quarantine");
        }
        assertEquals(0, DicomTools.echo(KafkaStack.dicomPort, "ECHOSCU").exitCode(), "still serving");
    }

    @Test
    @Order(6)
    void brokerOutageIsAnsweredWithFailureAndAResendArrivesExactlyOnce() throws Exception {
        // Mark them unseen: a fresh copy with new UIDs keeps this test independent of the earlier ones.
        List<Path> copies = freshCopies("outage", 3);
        List<String> sops = sops(copies);
        double unavailableBefore = metric("ingest_instances_rejected_total{reason=\"kafka_unavailable\"}");
        KafkaStack.broker.stop();
        try {
            DicomTools.Result r = DicomTools.store(KafkaStack.dicomPort, "STORESCU", List.of("-xe", "-nh"), copies);
            assertEquals(3, r.output().split("Refused: OutOfResources", -1).length - 1, "0xA700 for each instance: " + r.output());
            assertEquals(unavailableBefore + 3, metric("ingest_instances_rejected_total{reason=\"kafka_unavailable\"}"), 0.0);
        } finally {
            KafkaStack.broker.start();
        }
        List<InstanceReceived> afterOutage = KafkaStack.allEvents();
        assertTrue(afterOutage.stream().noneMatch(e -> sops.contains(e.sopInstanceUid())), "no event for refused instances");

        DicomTools.Result again = DicomTools.store(KafkaStack.dicomPort, "STORESCU", List.of("-xe", "-nh"), copies);
        assertFalse(again.output().contains("Store Failed"), again.output());
        DicomTools.store(KafkaStack.dicomPort, "STORESCU", List.of("-xe", "-nh"), copies); // a second re-send: duplicates
        Map<String, Long> perSop = KafkaStack.allEvents().stream()
                .filter(e -> sops.contains(e.sopInstanceUid()))
                .collect(Collectors.groupingBy(InstanceReceived::sopInstanceUid, Collectors.counting()));
        assertEquals(Map.of(sops.get(0), 1L, sops.get(1), 1L, sops.get(2), 1L), perSop, "exactly once per SOP Instance UID");
    }

    @Test
    @Order(7)
    void metricsAndHealthAreExposed() throws Exception {
        assertTrue(metric("ingest_instances_stored_total") >= 892 + 3);
        assertTrue(metric("ingest_stored_bytes_total") > 0);
        assertTrue(metric("ingest_store_to_ack_seconds_count") >= 892);
        HttpResponse<String> h = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, h.statusCode(), h.body());
        assertTrue(h.body().contains("listening on " + KafkaStack.dicomPort), h.body());
    }

    @Test
    @Order(8)
    void pipelineSendDeliversEveryTransferSyntaxAsStoredAndADisallowedAeIsRefused() throws Exception {
        Path ts = SharedData.dicomVendors().resolve("transfer-syntaxes");
        int rc = org.imagingpipeline.simulator.SendCommand.run(new String[] {"--data", ts.toString(), "--to", "127.0.0.1:" + KafkaStack.dicomPort,
                "--calling-ae", "STORESCU"});
        assertEquals(0, rc, "all nine transfer syntaxes accepted as they are (already stored: answered as duplicates)");
        org.junit.jupiter.api.Assertions.assertThrows(org.imagingpipeline.dicomnet.StoreScu.AssociationException.class,
                () -> org.imagingpipeline.simulator.SendCommand.run(new String[] {"--data", ts.toString(), "--to",
                        "127.0.0.1:" + KafkaStack.dicomPort, "--calling-ae", "INTRUDER"}));
    }

    // ------------------------------------------------------------------ DICOM TLS and access control (issue 19 item 4)

    @Test
    @Order(9)
    void dcmtkOverTlsStoresExactlyAsOverPlainDimse() throws Exception {
        List<String> tls = scannerTls();
        DicomTools.Result echo = DicomTools.echo(KafkaStack.tlsPort, "ECHOSCU", tls);
        assertEquals(0, echo.exitCode(), echo.output());

        List<Path> copies = freshCopies("tls", 3);
        List<String> sops = sops(copies);
        List<String> options = new ArrayList<>(tls);
        options.addAll(List.of("-xe", "-nh"));
        DicomTools.Result r = DicomTools.store(KafkaStack.tlsPort, "STORESCU", options, copies);
        assertEquals(0, r.exitCode(), r.output());
        assertFalse(r.output().contains("Store Failed"), r.output());
        Map<String, List<InstanceReceived>> bySop = KafkaStack.allEvents().stream().filter(e -> sops.contains(e.sopInstanceUid()))
                .collect(Collectors.groupingBy(InstanceReceived::sopInstanceUid));
        assertEquals(new java.util.HashSet<>(sops), bySop.keySet(), "an event for each instance sent over TLS");
        for (Path f : copies) {
            Map<String, String> d = DicomTools.dcmdump(f);
            List<InstanceReceived> es = bySop.get(d.get("0008,0018"));
            assertEquals(1, es.size(), "exactly one event");
            InstanceReceived e = es.get(0);
            assertHeaderMatches(f, d, e);
            assertEquals("STORESCU", e.source().callingAeTitle());
            assertEquals(InstanceReceived.Source.DIMSE, e.source().protocol());
            byte[] stored = Files.readAllBytes(Path.of(URI.create(e.blob().uri())));
            assertEquals(InstanceIngestor.sha256(stored), e.blob().sha256());
        }
        // The acknowledged path: a re-send over TLS is answered as a duplicate, no second event.
        double dupBefore = metric("ingest_instances_duplicate_total");
        DicomTools.Result again = DicomTools.store(KafkaStack.tlsPort, "STORESCU", options, copies);
        assertFalse(again.output().contains("Store Failed"), again.output());
        assertEquals(dupBefore + 3, metric("ingest_instances_duplicate_total"), 0.0);
        assertEquals(3, KafkaStack.allEvents().stream().filter(e -> sops.contains(e.sopInstanceUid())).count());
    }

    @Test
    @Order(10)
    void failedTlsHandshakesAreRefusedCountedAndAuditedWhileAnAssociationInFlightGoesOn() throws Exception {
        Path ca = KafkaStack.secrets.resolve("ca.pem");
        Path foreign = KafkaStack.foreign;
        List<Path> copies = freshCopies("in-flight", 2);
        List<String> sops = sops(copies);
        double before = metric("ingest_instances_rejected_total{reason=\"tls_handshake\"}");
        DicomTls client = DicomTls.of(DicomTls.pemKeys(KafkaStack.secrets.resolve("scanner.pem"), KafkaStack.secrets.resolve("scanner-key.pem")),
                DicomTls.trust(ca, null), null, null);
        byte[] first = Files.readAllBytes(copies.get(0));
        byte[] second = Files.readAllBytes(copies.get(1));
        Part10.Meta m1 = Part10.readMeta(first);
        Part10.Meta m2 = Part10.readMeta(second);
        StoreScu.Context ctx = new StoreScu.Context(m1.mediaStorageSopClassUid(), m1.transferSyntaxUid());
        try (StoreScu scu = StoreScu.open("127.0.0.1", KafkaStack.tlsPort, "INGEST", "STORESCU", List.of(ctx), Duration.ofSeconds(60), client)) {
            assertTrue(scu.store(ctx, m1.mediaStorageSopInstanceUid(), first, m1.datasetOffset()).success());

            // Anonymous TLS (no client certificate): client-auth "need" refuses it.
            DicomTools.Result anonymous = DicomTools.echo(KafkaStack.tlsPort, "ECHOSCU", List.of("+tla", "+cf", ca.toString()));
            assertNotEquals(0, anonymous.exitCode(), anonymous.output());
            // A client certificate of another CA.
            DicomTools.Result untrusted = DicomTools.echo(KafkaStack.tlsPort, "ECHOSCU",
                    DicomTools.tls(foreign.resolve("scanner-key.pem"), foreign.resolve("scanner.pem"), ca));
            assertNotEquals(0, untrusted.exitCode(), untrusted.output());
            // Plain DIMSE to the TLS port.
            DicomTools.Result plain = DicomTools.echo(KafkaStack.tlsPort, "ECHOSCU");
            assertNotEquals(0, plain.exitCode(), plain.output());

            assertTrue(scu.store(ctx, m2.mediaStorageSopInstanceUid(), second, m2.datasetOffset()).success(), "the association in flight goes on");
        }
        assertEquals(before + 3, metric("ingest_instances_rejected_total{reason=\"tls_handshake\"}"), 0.0);
        assertEquals(2, KafkaStack.allEvents().stream().filter(e -> sops.contains(e.sopInstanceUid())).count());
        List<AuditEvent> refusals = awaitAudit(a -> a.detail() != null && a.detail().startsWith("tls_handshake"), 3);
        for (AuditEvent a : refusals) {
            assertEquals("ingest", a.service());
            assertEquals("dicom-associate", a.action());
            assertEquals("denied", a.outcome());
            assertEquals("anonymous", a.principal());
            assertTrue(a.target().startsWith("DICOM /127.0.0.1:"), a.target());
        }
    }

    @Test
    @Order(11)
    void anUnknownCallingAeOverTlsIsRejected() throws Exception {
        double before = metric("ingest_instances_rejected_total{reason=\"calling_ae_not_allowed\"}");
        DicomTools.Result r = DicomTools.echo(KafkaStack.tlsPort, "INTRUDER", scannerTls());
        assertNotEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().toLowerCase().contains("rejected"), r.output());
        assertEquals(before + 1, metric("ingest_instances_rejected_total{reason=\"calling_ae_not_allowed\"}"), 0.0);
        AuditEvent a = awaitAudit(e -> "dicom-ae:INTRUDER".equals(e.principal()), 1).get(0);
        assertTrue(a.detail().startsWith("calling_ae_not_allowed"), a.detail());
        assertEquals(0, DicomTools.echo(KafkaStack.tlsPort, "ECHOSCU", scannerTls()).exitCode(), "still serving");
    }

    @Test
    @Order(12)
    void aSourceAddressOutsideTheAllowListIsRefusedOnBothListeners() throws Exception {
        double before = metric("ingest_instances_rejected_total{reason=\"source_not_allowed\"}");
        // 127.0.0.2 is loopback too, but not in ingest.dicom.allowed-sources (127.0.0.1, ::1).
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress("127.0.0.2", 0));
            s.connect(new InetSocketAddress("127.0.0.1", KafkaStack.dicomPort), 5000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(PduWriter.associateRq("INGEST", "ECHOSCU", List.of(new AssociateRequest.PresentationContext(1, "1.2.840.10008.1.1",
                    List.of(TransferSyntaxes.IMPLICIT_VR_LE))), 16384, Part10.IMPLEMENTATION_CLASS_UID, Part10.IMPLEMENTATION_VERSION));
            out.flush();
            PduReader.Raw answer = PduReader.read(new DataInputStream(s.getInputStream()), 1 << 16);
            assertNotNull(answer, "an answer, not a reset");
            assertEquals(Pdu.ASSOCIATE_RJ, answer.type(), "A-ASSOCIATE-RJ");
            assertEquals(Pdu.RJ_PERMANENT, answer.body()[1] & 0xff);
        }
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress("127.0.0.2", 0));
            s.connect(new InetSocketAddress("127.0.0.1", KafkaStack.tlsPort), 5000);
            s.setSoTimeout(10_000);
            assertEquals(-1, s.getInputStream().read(), "closed before any TLS handshake");
        }
        assertEquals(before + 2, metric("ingest_instances_rejected_total{reason=\"source_not_allowed\"}"), 0.0);
        assertEquals(0, DicomTools.echo(KafkaStack.dicomPort, "ECHOSCU").exitCode(), "127.0.0.1 still served");
    }

    // ------------------------------------------------------------------ bounded memory and pre-association timeout (issue 20 item 1)

    @Test
    @Order(13)
    void anOverCapInstanceGetsAFailureStatusAndTheAssociationAndOthersGoOn() throws Exception {
        warmUp();
        double oversizedBefore = metricOrZero("ingest_instances_rejected_total{reason=\"oversized\"}");
        Synthetic big = synthetic(9 << 20); // ingest.max-object-bytes is 8 MiB in this test
        Synthetic small = synthetic(1 << 20);
        Synthetic other = synthetic(1 << 20);
        StoreScu.Context ctx = new StoreScu.Context(big.sopClass(), TransferSyntaxes.EXPLICIT_VR_LE);
        try (StoreScu a = StoreScu.open("127.0.0.1", KafkaStack.dicomPort, "INGEST", "STORESCU", List.of(ctx), Duration.ofSeconds(60));
             StoreScu b = StoreScu.open("127.0.0.1", KafkaStack.dicomPort, "INGEST", "STORESCU", List.of(ctx), Duration.ofSeconds(60))) {
            Map<Long, Long> before = associationThreadAllocations();
            StoreScu.Response refused = a.store(ctx, big.sop(), big.dataset(), 0);
            long allocated = allocatedSince(before);
            // The old path buffered up to ingest.max-object-bytes in memory before it knew the instance was too large.
            assertTrue(allocated < big.dataset().length / 4, "receiving the refused instance allocated " + allocated + " bytes");
            assertEquals(0xA700, refused.status(), "out of resources: " + refused.errorComment());
            assertTrue(refused.errorComment().contains("oversized"), refused.errorComment());
            assertEquals(0x0000, a.store(ctx, small.sop(), small.dataset(), 0).status(), "the same association goes on");
            assertEquals(0x0000, b.store(ctx, other.sop(), other.dataset(), 0).status(), "another association goes on");
        }
        assertEquals(oversizedBefore + 1, metricOrZero("ingest_instances_rejected_total{reason=\"oversized\"}"), 0.0);
        Map<String, Long> perSop = KafkaStack.allEvents().stream().collect(Collectors.groupingBy(InstanceReceived::sopInstanceUid, Collectors.counting()));
        assertEquals(null, perSop.get(big.sop()), "no event for the refused instance");
        assertEquals(1L, perSop.get(small.sop()));
        assertEquals(1L, perSop.get(other.sop()));
        try (Stream<Path> q = Files.walk(KafkaStack.home.resolve("ingest/quarantine"))) {
            List<Path> kept = q.filter(p -> p.getFileName().toString().contains("-oversized-") && p.toString().endsWith(".dcm")).toList();
            assertFalse(kept.isEmpty(), "the start of the refused instance is quarantined");
            for (Path k : kept) assertTrue(Files.size(k) <= Quarantine.MAX_KEPT_BYTES, k + " keeps at most 1 MiB");
        }
        try (Stream<Path> tmp = Files.list(KafkaStack.home.resolve("ingest/blobs/tmp"))) {
            assertEquals(List.of(), tmp.toList(), "no temporary file is left behind");
        }
    }

    @Test
    @Order(14)
    void concurrentLargeInstancesAreStreamedToDiskNotHeldInTheHeap() throws Exception {
        // Four associations at once, each sending a 7 MiB instance. The old receive path buffered each instance whole
        // (a growing array, then a copy with the Part-10 header, PDU bodies on the way): several times its size
        // allocated on the association's thread. Streamed to disk, an association allocates a fixed amount plus the header.
        int n = 4;
        List<Synthetic> instances = new ArrayList<>();
        for (int i = 0; i < n; i++) instances.add(synthetic(7 << 20));
        long sent = instances.stream().mapToLong(s -> s.dataset().length).sum();
        warmUp();
        Map<Long, Long> before = associationThreadAllocations();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(n);
        try {
            List<java.util.concurrent.Future<Integer>> statuses = new ArrayList<>();
            for (Synthetic s : instances) {
                statuses.add(pool.submit(() -> {
                    StoreScu.Context ctx = new StoreScu.Context(s.sopClass(), TransferSyntaxes.EXPLICIT_VR_LE);
                    try (StoreScu scu = StoreScu.open("127.0.0.1", KafkaStack.dicomPort, "INGEST", "STORESCU", List.of(ctx), Duration.ofSeconds(60))) {
                        return scu.store(ctx, s.sop(), s.dataset(), 0).status();
                    }
                }));
            }
            for (java.util.concurrent.Future<Integer> f : statuses) assertEquals(0x0000, f.get(120, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
        long allocated = allocatedSince(before);
        assertTrue(allocated < sent / 4, "association threads allocated " + allocated + " bytes to receive " + sent
                + " bytes: instances must be streamed, not buffered");
        Map<String, InstanceReceived> bySop = KafkaStack.allEvents().stream()
                .collect(Collectors.toMap(InstanceReceived::sopInstanceUid, e -> e, (x, y) -> x));
        for (Synthetic s : instances) {
            InstanceReceived e = bySop.get(s.sop());
            assertNotNull(e, "event for " + s.sop());
            Path blob = Path.of(URI.create(e.blob().uri()));
            assertEquals(e.blob().size(), Files.size(blob));
            assertEquals(InstanceIngestor.sha256(Files.readAllBytes(blob)), e.blob().sha256(), "hashed while streaming = hash of the blob");
        }
    }

    @Test
    @Order(15)
    void socketsThatNeverAssociateAreClosedAfterTheRequestTimeoutAndDoNotLockOutAnEcho() throws Exception {
        // More idle connections than ingest.dicom.max-associations (32): they must not hold association slots.
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", KafkaStack.dicomPort), 5000);
                s.setSoTimeout(15_000);
                idle.add(s);
            }
            // No wait for the SCP to take them: connections leave the listen queue in order, so the echo's
            // association is accepted only after all 40.
            DicomTools.Result echo = DicomTools.echo(KafkaStack.dicomPort, "ECHOSCU");
            assertEquals(0, echo.exitCode(), "C-ECHO beside 40 idle sockets: " + echo.output());
            long t0 = System.nanoTime();
            for (Socket s : idle) {
                // ingest.dicom.request-timeout is 2 s here: each is closed by the SCP (read sees the end), long before the
                // 60 s idle timeout of an association.
                assertEquals(-1, s.getInputStream().read(), "closed without an association request");
            }
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(12).toNanos(), "closed after the request timeout");
        } finally {
            for (Socket s : idle) s.close();
        }
        assertEquals(0, DicomTools.echo(KafkaStack.dicomPort, "ECHOSCU").exitCode(), "still serving");
    }

    /**
     * One small instance stored first, so that one-time work (class loading, PixelMed's dictionary, the producer's first
     * metadata) is not counted as an association's allocation whatever the tests' order.
     */
    private static void warmUp() throws Exception {
        Synthetic s = synthetic(1 << 19);
        StoreScu.Context ctx = new StoreScu.Context(s.sopClass(), TransferSyntaxes.EXPLICIT_VR_LE);
        try (StoreScu scu = StoreScu.open("127.0.0.1", KafkaStack.dicomPort, "INGEST", "STORESCU", List.of(ctx), Duration.ofSeconds(60))) {
            assertEquals(0x0000, scu.store(ctx, s.sop(), s.dataset(), 0).status());
        }
    }

    /** A counter's value; 0 when it is not exported yet (the metrics bean is created on first use). */
    private double metricOrZero(String nameWithLabels) throws Exception {
        try {
            return metric(nameWithLabels);
        } catch (AssertionError notYet) {
            return 0;
        }
    }

    /** Bytes allocated so far by each live SCP association thread, by thread id. */
    private static Map<Long, Long> associationThreadAllocations() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        Map<Long, Long> m = new LinkedHashMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("dicom-association")) m.put(t.getId(), mx.getThreadAllocatedBytes(t.getId()));
        }
        return m;
    }

    /** Bytes the SCP's association threads allocated since {@code before} (threads started since count from zero). */
    private static long allocatedSince(Map<Long, Long> before) {
        return associationThreadAllocations().entrySet().stream().mapToLong(e -> e.getValue() - before.getOrDefault(e.getKey(), 0L)).sum();
    }

    /** A CT dataset (Explicit VR LE, no file meta) with new UIDs and about {@code bytes} of pixel data. */
    private record Synthetic(String sopClass, String sop, byte[] dataset) {
    }

    private static Synthetic synthetic(int bytes) throws Exception {
        Path ct;
        try (Stream<Path> s = Files.walk(SharedData.dicomVendors().resolve("ge-ct"))) {
            ct = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("LICENSE")).sorted().findFirst().orElseThrow();
        }
        AttributeList l = new AttributeList();
        l.read(ct.toString());
        String sop = "2.25." + new java.math.BigInteger(1, java.nio.ByteBuffer.allocate(16).putLong(java.util.UUID.randomUUID().getMostSignificantBits())
                .putLong(System.nanoTime()).array());
        l.replaceWithValueIfPresent(TagFromName.SOPInstanceUID, sop);
        l.removeGroupLengthAttributes();
        l.removeMetaInformationHeaderAttributes();
        int side = 512;
        int frames = Math.max(1, bytes / (side * side * 2));
        com.pixelmed.dicom.Attribute nf = new com.pixelmed.dicom.IntegerStringAttribute(TagFromName.NumberOfFrames);
        nf.addValue(frames);
        l.put(nf);
        com.pixelmed.dicom.OtherWordAttribute px = new com.pixelmed.dicom.OtherWordAttribute(TagFromName.PixelData);
        short[] values = new short[side * side * frames];
        for (int i = 0; i < values.length; i++) values[i] = (short) (i * 31);
        px.setValues(values);
        l.put(px);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(bytes + (1 << 16));
        com.pixelmed.dicom.DicomOutputStream dos = new com.pixelmed.dicom.DicomOutputStream(out, null,
                com.pixelmed.dicom.TransferSyntax.ExplicitVRLittleEndian);
        l.write(dos);
        dos.close();
        return new Synthetic(Attribute.getSingleStringValueOrNull(l, TagFromName.SOPClassUID), sop, out.toByteArray());
    }

    private static List<String> scannerTls() {
        return DicomTools.tls(KafkaStack.secrets.resolve("scanner-key.pem"), KafkaStack.secrets.resolve("scanner.pem"),
                KafkaStack.secrets.resolve("ca.pem"));
    }

    /** Waits (at most 30 s) until audit.events holds at least {@code n} events that match, and returns them. */
    private static List<AuditEvent> awaitAudit(java.util.function.Predicate<AuditEvent> match, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<AuditEvent> found;
        do {
            found = KafkaStack.auditEvents().stream().filter(match).toList();
            if (found.size() >= n) return found;
            Thread.sleep(250);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("expected " + n + " audit events, found " + found);
    }

    // ------------------------------------------------------------------ helpers

    /** The first {@code n} GE CT files with new SOP Instance UIDs (Explicit VR LE), so that they are new to the SCP. */
    private static List<Path> freshCopies(String name, int n) throws Exception {
        Path ct = SharedData.dicomVendors().resolve("ge-ct");
        List<Path> originals;
        try (Stream<Path> s = Files.walk(ct)) {
            originals = s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("LICENSE")).sorted().limit(n).toList();
        }
        Path dir = Files.createTempDirectory(name);
        List<Path> copies = new ArrayList<>();
        for (int i = 0; i < originals.size(); i++) {
            AttributeList l = new AttributeList();
            l.read(originals.get(i).toString());
            l.replaceWithValueIfPresent(TagFromName.SOPInstanceUID, "2.25." + (System.nanoTime() & 0xffffffffffL) + i);
            l.removeGroupLengthAttributes();
            l.removeMetaInformationHeaderAttributes();
            com.pixelmed.dicom.FileMetaInformation.addFileMetaInformation(l, com.pixelmed.dicom.TransferSyntax.ExplicitVRLittleEndian, "TEST");
            Path out = dir.resolve(i + ".dcm");
            l.write(out.toFile(), com.pixelmed.dicom.TransferSyntax.ExplicitVRLittleEndian, true, true);
            copies.add(out);
        }
        return copies;
    }

    private static List<String> sops(List<Path> files) throws Exception {
        List<String> out = new ArrayList<>();
        for (Path f : files) out.add(Attribute.getSingleStringValueOrNull(readHeader(f), TagFromName.SOPInstanceUID));
        return out;
    }

    private void sendWithPixelMed(Path file, String sopClass, String sop) {
        try {
            new StorageSOPClassSCU("127.0.0.1", KafkaStack.dicomPort, "INGEST", "PIXELMED", file.toString(), sopClass, sop, 0);
        } catch (Exception e) {
            // PixelMed reports a failure status as an exception on some versions; the assertions check the outcome.
            System.out.println("PixelMed SCU: " + e);
        }
    }

    private static int metaLength(byte[] file) throws Exception {
        return org.imagingpipeline.dicomnet.Part10.readMeta(file).datasetOffset();
    }

    static void assertHeaderMatches(Path f, Map<String, String> d, InstanceReceived e) {
        assertEquals(d.get("0020,000d"), e.studyInstanceUid(), f + " study");
        assertEquals(d.get("0020,000e"), e.seriesInstanceUid(), f + " series");
        assertEquals(d.get("0008,0016"), e.sopClassUid(), f + " SOP class");
        assertEquals(d.get("0002,0010"), e.transferSyntaxUid(), f + " transfer syntax (stored as sent)");
        assertEquals(blankToNull(d.get("0008,0060")), e.header().modality(), f + " modality");
        assertEquals(blankToNull(d.get("0008,0070")), e.header().manufacturer(), f + " manufacturer");
        assertEquals(blankToNull(d.get("0008,1090")), e.header().manufacturerModelName(), f + " model");
        assertEquals(blankToNull(d.get("0008,0080")), e.header().institutionName(), f + " institution");
        assertEquals(blankToNull(d.get("0008,1010")), e.header().stationName(), f + " station");
        assertEquals(blankToNull(d.get("0008,103e")), e.header().seriesDescription(), f + " series description");
        assertEquals(blankToNull(d.get("0018,1030")), e.header().protocolName(), f + " protocol");
        assertEquals(intOrNull(d.get("0028,0010")), e.header().rows(), f + " rows");
        assertEquals(intOrNull(d.get("0028,0011")), e.header().columns(), f + " columns");
        assertEquals(intOrNull(d.get("0028,0100")), e.header().bitsAllocated(), f + " bits allocated");
        if (d.get("0018,0087") != null) assertEquals(Double.parseDouble(d.get("0018,0087").split("\\\\")[0]), e.header().magneticFieldStrength(), 1e-9);
        if (d.get("0018,0080") != null) assertEquals(Double.parseDouble(d.get("0018,0080").split("\\\\")[0]), e.header().repetitionTime(), 1e-9);
        if (d.get("0018,0050") != null) assertEquals(Double.parseDouble(d.get("0018,0050").split("\\\\")[0]), e.header().sliceThickness(), 1e-9);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() || s.startsWith("(no value") ? null : s.strip();
    }

    private static Integer intOrNull(String s) {
        return s == null ? null : Integer.valueOf(s.trim());
    }

    private static AttributeList readHeader(Path f) throws Exception {
        AttributeList l = new AttributeList();
        try (DicomInputStream in = new DicomInputStream(f.toFile())) {
            l.read(in, TagFromName.PixelData);
        }
        return l;
    }

    /** Every DICOM file under the folder (README and LICENSE files excluded), by SOP Instance UID. */
    static Map<String, Path> dicomFilesBySop(Path root) throws IOException {
        Map<String, Path> m = new LinkedHashMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith("LICENSE") || n.startsWith("README")) continue;
                try {
                    AttributeList l = readHeader(p);
                    m.put(Attribute.getSingleStringValueOrNull(l, TagFromName.SOPInstanceUID), p);
                } catch (Exception e) {
                    throw new IOException("not readable as DICOM: " + p, e);
                }
            }
        }
        return m;
    }

    private double metric(String nameWithLabels) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        for (String line : r.body().split("\n")) {
            if (line.startsWith(nameWithLabels + " ")) return Double.parseDouble(line.substring(nameWithLabels.length() + 1).trim());
        }
        throw new AssertionError("metric " + nameWithLabels + " not found");
    }

    private static String tail(String s) {
        return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
    }
}
