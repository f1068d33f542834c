package org.imagingpipeline.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.testsupport.auth.TestTokens;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** STOW-RS with a plain HTTP client against the real service and broker: the same checks as over DIMSE. */
@QuarkusTest
@QuarkusTestResource(value = KafkaStack.class, restrictToAnnotatedClass = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StowIngestTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @ConfigProperty(name = "quarkus.http.test-port")
    int httpPort;

    @Test
    @Order(1)
    void everySharedVendorFileArrivesOnceWithItsHeader() throws Exception {
        Path vendors = SharedData.dicomVendors();
        Map<String, Path> files = DimseIngestTest.dicomFilesBySop(vendors);
        // One request per 100 files: the Philips series alone is 680 instances.
        List<Path> all = new ArrayList<>(files.values());
        for (int i = 0; i < all.size(); i += 100) {
            List<Path> batch = all.subList(i, Math.min(all.size(), i + 100));
            List<byte[]> parts = new ArrayList<>();
            for (Path p : batch) parts.add(Files.readAllBytes(p));
            HttpResponse<String> r = post(parts, "application/dicom");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode body = EventJson.mapper().readTree(r.body());
            assertEquals(batch.size(), body.path("00081199").path("Value").size(), "every instance referenced");
        }
        List<InstanceReceived> events = KafkaStack.allEvents();
        Map<String, Long> perSop = events.stream().collect(Collectors.groupingBy(InstanceReceived::sopInstanceUid, Collectors.counting()));
        assertEquals(files.keySet(), perSop.keySet());
        assertTrue(perSop.values().stream().allMatch(n -> n == 1));
        Map<String, InstanceReceived> bySop = events.stream().collect(Collectors.toMap(InstanceReceived::sopInstanceUid, e -> e));
        for (Path f : files.values().stream().filter(p -> p.toString().contains("transfer-syntaxes")).toList()) {
            Map<String, String> d = DicomTools.dcmdump(f);
            InstanceReceived e = bySop.get(d.get("0008,0018"));
            assertNotNull(e);
            assertEquals(InstanceReceived.Source.STOW_RS, e.source().protocol());
            DimseIngestTest.assertHeaderMatches(f, d, e);
        }
        // Each request ends with one sender-done marker per series it stored, after that series' instances.
        List<KafkaStack.Marker> markers = KafkaStack.senderDoneMarkers();
        assertEquals(events.stream().map(InstanceReceived::seriesInstanceUid).collect(Collectors.toSet()),
                markers.stream().map(KafkaStack.Marker::seriesUid).collect(Collectors.toSet()), "a marker for every series stored, no other");
        assertTrue(markers.stream().allMatch(m -> m.how().equals("STOW-RS")), markers.toString());
        // A series sent in several associations or requests has a marker after each; its last one follows every instance.
        assertTrue(KafkaStack.lastMarkerPerSeries(markers).values().stream().allMatch(KafkaStack.Marker::afterItsInstances), markers.toString());
        // The same request again: acknowledged, no second event and no marker (nothing was stored).
        HttpResponse<String> again = post(List.of(Files.readAllBytes(all.get(0))), "application/dicom");
        assertEquals(200, again.statusCode());
        assertEquals(events.size(), KafkaStack.allEvents().size());
        assertEquals(markers.size(), KafkaStack.senderDoneMarkers().size());
    }

    @Test
    @Order(2)
    void badPartsAreRefusedWithTheirReasonAndGoodOnesStored() throws Exception {
        byte[] good = freshInstance("1.2.840.10008.5.1.4.1.1.4", 0);
        byte[] truncated = Arrays.copyOf(good, good.length - 100);
        byte[] text = "not DICOM at all".getBytes(StandardCharsets.US_ASCII);
        byte[] unsupported = freshInstance("1.2.3.4.5.6", 0);
        byte[] oversized = freshInstance("1.2.840.10008.5.1.4.1.1.4", 9 << 20);
        double oversizedBefore = metric("ingest_instances_rejected_total{reason=\"oversized\"}");
        HttpResponse<String> r = post(List.of(good, truncated, text, unsupported, oversized), "application/dicom");
        assertEquals(202, r.statusCode(), r.body());
        JsonNode body = EventJson.mapper().readTree(r.body());
        assertEquals(1, body.path("00081199").path("Value").size());
        List<Integer> reasons = new ArrayList<>();
        body.path("00081198").path("Value").forEach(n -> reasons.add(n.path("00081197").path("Value").get(0).asInt()));
        assertEquals(List.of(0xC000, 0xC000, 0x0122, 0xA700), reasons, r.body());

        HttpResponse<String> onlyBad = post(List.of(text), "application/dicom");
        assertEquals(409, onlyBad.statusCode());
        HttpResponse<String> json = post(List.of(good), "application/dicom+json");
        assertEquals(415, json.statusCode());
        // A part whose Content-Type is only ";" (a fuzzing finding, StowMultipartFuzzTest: an ArrayIndexOutOfBounds that
        // answered 500 for the whole request) is one refused part.
        ByteArrayOutputStream semicolonBody = new ByteArrayOutputStream();
        semicolonBody.writeBytes("--semi\r\nContent-Type: ;\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        semicolonBody.writeBytes(good);
        semicolonBody.writeBytes("\r\n--semi--\r\n".getBytes(StandardCharsets.US_ASCII));
        HttpResponse<String> semicolon = HTTP.send(HttpRequest.newBuilder(uri("/dicomweb/studies"))
                .header("Content-Type", "multipart/related; type=\"application/dicom\"; boundary=semi").header("Accept", "application/dicom+json")
                .header("Authorization", TestTokens.bearer("scanner")).POST(HttpRequest.BodyPublishers.ofByteArray(semicolonBody.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(409, semicolon.statusCode(), semicolon.body());
        HttpRequest noBoundary = HttpRequest.newBuilder(uri("/dicomweb/studies")).header("Content-Type", "multipart/related; type=\"application/dicom\"")
                .header("Authorization", TestTokens.bearer("scanner")).POST(HttpRequest.BodyPublishers.ofByteArray(good)).build();
        assertEquals(400, HTTP.send(noBoundary, HttpResponse.BodyHandlers.ofString()).statusCode());

        String metrics = HTTP.send(HttpRequest.newBuilder(uri("/q/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("ingest_instances_rejected_total{reason=\"unsupported_sop_class\"} 1.0"), "counted by reason");
        assertEquals(oversizedBefore + 1, metric("ingest_instances_rejected_total{reason=\"oversized\"}"), 0.0);
    }

    @Test
    @Order(3)
    void storeIntoAStudyRefusesInstancesOfAnotherStudy() throws Exception {
        byte[] good = freshInstance("1.2.840.10008.5.1.4.1.1.4", 0);
        HttpResponse<String> r = post("/dicomweb/studies/1.2.3.999", List.of(good), "application/dicom");
        assertEquals(409, r.statusCode(), r.body());
        assertTrue(r.body().contains(Integer.toString(0xA900)));
    }

    @Test
    @Order(4)
    void brokerOutageAnswers503AndTheResendArrivesOnce() throws Exception {
        byte[] a = freshInstance("1.2.840.10008.5.1.4.1.1.4", 0);
        byte[] b = freshInstance("1.2.840.10008.5.1.4.1.1.4", 0);
        int before = KafkaStack.allEvents().size();
        KafkaStack.broker.stop();
        try {
            HttpResponse<String> r = post(List.of(a, b), "application/dicom");
            assertEquals(503, r.statusCode(), r.body());
            assertTrue(r.headers().firstValue("Retry-After").isPresent());
        } finally {
            KafkaStack.broker.start();
        }
        assertEquals(before, KafkaStack.allEvents().size(), "nothing published during the outage");
        assertEquals(200, post(List.of(a, b), "application/dicom").statusCode());
        assertEquals(200, post(List.of(a, b), "application/dicom").statusCode());
        assertEquals(before + 2, KafkaStack.allEvents().size(), "exactly once after the outage");
    }

    @Test
    @Order(5)
    void storingNeedsAScannerTokenHealthAndMetricsDoNot() throws Exception {
        byte[] instance = freshInstance("1.2.840.10008.5.1.4.1.1.4", 0);
        int before = KafkaStack.allEvents().size();
        List<String> bad = TestTokens.badTokens("scanner");
        assertEquals(401, post("/dicomweb/studies", List.of(instance), "application/dicom", null).statusCode(), "no token");
        for (String t : bad) {
            HttpResponse<String> r = post("/dicomweb/studies", List.of(instance), "application/dicom", "Bearer " + t);
            assertEquals(401, r.statusCode(), "bad token " + bad.indexOf(t));
            assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
        }
        assertEquals(401, post("/dicomweb/studies/1.2.3", List.of(instance), "application/dicom", null).statusCode());
        for (String role : List.of("viewer", "mlops")) {
            assertEquals(403, post("/dicomweb/studies", List.of(instance), "application/dicom", TestTokens.bearer(role)).statusCode(), role);
        }
        assertEquals(before, KafkaStack.allEvents().size(), "nothing stored without a scanner token");
        assertEquals(200, post("/dicomweb/studies", List.of(instance), "application/dicom", TestTokens.bearer("scanner")).statusCode());
        assertEquals(200, post("/dicomweb/studies", List.of(freshInstance("1.2.840.10008.5.1.4.1.1.4", 0)), "application/dicom",
                TestTokens.bearer("admin")).statusCode());
        assertEquals(before + 2, KafkaStack.allEvents().size());

        // Health and metrics stay open; any other path needs a token (no endpoint is open by omission).
        for (String open : List.of("/q/health", "/q/health/ready", "/q/health/live", "/q/metrics")) {
            int status = HTTP.send(HttpRequest.newBuilder(uri(open)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
            assertTrue(status == 200 || status == 503, open + " answered " + status); // 503: a check is DOWN, not a refusal
        }
        assertEquals(401, HTTP.send(HttpRequest.newBuilder(uri("/dicomweb/studies")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(401, HTTP.send(HttpRequest.newBuilder(uri("/anything")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    // ------------------------------------------------------------------ bounded memory (issue 20 item 1)

    @Test
    @Order(6)
    void aDeflateBombPartIsRefusedAs413AndNothingIsStored() throws Exception {
        // A deflated-transfer-syntax instance: a real header, then 512 MiB of zero pixel data, deflated to about 0.5 MiB.
        // The old path inflated it whole into the heap; now inflation stops at ingest.max-inflated-bytes (64 MiB here)
        // or the ratio cap, whichever comes first.
        byte[] bomb = deflatedInstance(512L << 20);
        assertTrue(bomb.length < 4 << 20, "a small request: " + bomb.length);
        int eventsBefore = KafkaStack.allEvents().size();
        long blobsBefore = blobCount();
        double oversizedBefore = metric("ingest_instances_rejected_total{reason=\"oversized\"}");
        HttpResponse<String> r = post(List.of(bomb), "application/dicom");
        assertEquals(413, r.statusCode(), r.body());
        assertTrue(r.body().contains(Integer.toString(0xA700)), r.body());
        assertEquals(oversizedBefore + 1, metric("ingest_instances_rejected_total{reason=\"oversized\"}"), 0.0);
        assertEquals(eventsBefore, KafkaStack.allEvents().size(), "no event");
        assertEquals(blobsBefore, blobCount(), "no blob");
        // The same transfer syntax with a reasonable payload is stored.
        HttpResponse<String> fine = post(List.of(deflatedInstance(256 << 10)), "application/dicom");
        assertEquals(200, fine.statusCode(), fine.body());
    }

    @Test
    @Order(7)
    void gzipBodiesAreInflatedWithinTheCapsAndAGzipBombIs413() throws Exception {
        byte[] good = freshInstance("1.2.840.10008.5.1.4.1.1.4", 0);
        int eventsBefore = KafkaStack.allEvents().size();
        HttpResponse<String> ok = postEncoded(gzip(multipart("gz-1", List.of(good)), 0, new byte[0]), "gz-1");
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals(eventsBefore + 1, KafkaStack.allEvents().size());

        // A part of 256 MiB of zeros, gzipped to about 0.25 MiB: refused by the ratio cap after a few MiB.
        byte[] bomb = gzip("--gz-2\r\nContent-Type: application/dicom\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 256L << 20,
                "\r\n--gz-2--\r\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(bomb.length < 1 << 20, "small on the wire: " + bomb.length);
        HttpResponse<String> r = postEncoded(bomb, "gz-2");
        assertEquals(413, r.statusCode(), r.body());
        HttpResponse<String> unknown = HTTP.send(HttpRequest.newBuilder(uri("/dicomweb/studies"))
                .header("Content-Type", "multipart/related; type=\"application/dicom\"; boundary=x").header("Content-Encoding", "br")
                .header("Authorization", TestTokens.bearer("scanner")).POST(HttpRequest.BodyPublishers.ofByteArray(new byte[10])).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(415, unknown.statusCode());
    }

    private long blobCount() throws Exception {
        try (java.util.stream.Stream<Path> s = Files.walk(KafkaStack.home.resolve("ingest/blobs/sha256"))) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    private HttpResponse<String> postEncoded(byte[] gzipped, String boundary) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri("/dicomweb/studies"))
                .header("Content-Type", "multipart/related; type=\"application/dicom\"; boundary=" + boundary)
                .header("Content-Encoding", "gzip").header("Authorization", TestTokens.bearer("scanner")).timeout(Duration.ofSeconds(120))
                .POST(HttpRequest.BodyPublishers.ofByteArray(gzipped)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A multipart/related body of application/dicom parts (also DicomWebRetrieveTest's STOW requests). */
    static byte[] multipart(String boundary, List<byte[]> parts) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            body.writeBytes(("--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            body.writeBytes(p);
            body.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        return body.toByteArray();
    }

    /** gzip of {@code head}, {@code zeros} zero bytes (a bomb's payload: they compress about 1000 times), {@code tail}. */
    private static byte[] gzip(byte[] head, long zeros, byte[] tail) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(out, 1 << 16)) {
            gz.write(head);
            byte[] z = new byte[1 << 20];
            for (long left = zeros; left > 0; left -= z.length) gz.write(z, 0, (int) Math.min(z.length, left));
            gz.write(tail);
        }
        return out.toByteArray();
    }

    /** A Part-10 instance in Deflated Explicit VR Little Endian whose pixel data are {@code pixelBytes} zeros. */
    private static byte[] deflatedInstance(long pixelBytes) throws Exception {
        byte[] withMeta = freshInstance("1.2.840.10008.5.1.4.1.1.4", 0);
        // the dataset without its pixel data, Explicit VR LE
        AttributeList l = new AttributeList();
        l.read(new com.pixelmed.dicom.DicomInputStream(new java.io.ByteArrayInputStream(withMeta)));
        l.remove(TagFromName.PixelData);
        l.removeMetaInformationHeaderAttributes();
        l.removeGroupLengthAttributes();
        ByteArrayOutputStream ds = new ByteArrayOutputStream();
        com.pixelmed.dicom.DicomOutputStream dos = new com.pixelmed.dicom.DicomOutputStream(ds, null, TransferSyntax.ExplicitVRLittleEndian);
        l.write(dos);
        dos.close();
        // (7FE0,0010) OW, 4-byte length, then the zeros
        java.nio.ByteBuffer px = java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        px.putShort((short) 0x7fe0).putShort((short) 0x0010).put((byte) 'O').put((byte) 'W').putShort((short) 0).putInt((int) pixelBytes);
        ByteArrayOutputStream deflated = new ByteArrayOutputStream();
        try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(deflated,
                new java.util.zip.Deflater(java.util.zip.Deflater.BEST_COMPRESSION, true), 1 << 16)) {
            z.write(ds.toByteArray());
            z.write(px.array());
            byte[] zeros = new byte[1 << 20];
            for (long left = pixelBytes; left > 0; left -= zeros.length) z.write(zeros, 0, (int) Math.min(zeros.length, left));
        }
        String sop = com.pixelmed.dicom.Attribute.getSingleStringValueOrNull(l, TagFromName.SOPInstanceUID);
        byte[] meta = org.imagingpipeline.dicomnet.Part10.header("1.2.840.10008.5.1.4.1.1.4", sop, "1.2.840.10008.1.2.1.99", null);
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(meta);
        file.writeBytes(deflated.toByteArray());
        return file.toByteArray();
    }

    private double metric(String nameWithLabels) throws Exception {
        String body = HTTP.send(HttpRequest.newBuilder(uri("/q/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        for (String line : body.split("\n")) {
            if (line.startsWith(nameWithLabels + " ")) return Double.parseDouble(line.substring(nameWithLabels.length() + 1).trim());
        }
        return 0;
    }

    // ------------------------------------------------------------------ helpers

    /** A new MR instance with fresh UIDs (and optionally a large pixel payload), as a Part-10 file. */
    private static byte[] freshInstance(String sopClass, int extraBytes) throws Exception {
        AttributeList l = new AttributeList();
        String root = "2.25." + new java.math.BigInteger(1, uuidBytes());
        put(l, TagFromName.SOPClassUID, sopClass);
        put(l, TagFromName.SOPInstanceUID, root + ".3");
        put(l, TagFromName.StudyInstanceUID, root + ".1");
        put(l, TagFromName.SeriesInstanceUID, root + ".2");
        put(l, TagFromName.Modality, "MR");
        put(l, TagFromName.PatientID, "TEST-1");
        int side = extraBytes > 0 ? (int) Math.ceil(Math.sqrt(extraBytes / 2.0)) : 16;
        com.pixelmed.dicom.Attribute rows = new com.pixelmed.dicom.UnsignedShortAttribute(TagFromName.Rows);
        rows.addValue(side);
        l.put(rows);
        com.pixelmed.dicom.Attribute cols = new com.pixelmed.dicom.UnsignedShortAttribute(TagFromName.Columns);
        cols.addValue(side);
        l.put(cols);
        put(l, TagFromName.SamplesPerPixel, "1");
        put(l, TagFromName.PhotometricInterpretation, "MONOCHROME2");
        put(l, TagFromName.BitsAllocated, "16");
        put(l, TagFromName.BitsStored, "16");
        put(l, TagFromName.HighBit, "15");
        put(l, TagFromName.PixelRepresentation, "0");
        com.pixelmed.dicom.OtherWordAttribute px = new com.pixelmed.dicom.OtherWordAttribute(TagFromName.PixelData);
        px.setValues(new short[side * side]);
        l.put(px);
        FileMetaInformation.addFileMetaInformation(l, TransferSyntax.ExplicitVRLittleEndian, "TEST");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        l.write(out, TransferSyntax.ExplicitVRLittleEndian, true, true);
        return out.toByteArray();
    }

    private static byte[] uuidBytes() {
        UUID u = UUID.randomUUID();
        return java.nio.ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
    }

    private static void put(AttributeList l, com.pixelmed.dicom.AttributeTag tag, String v) throws Exception {
        com.pixelmed.dicom.Attribute a = com.pixelmed.dicom.AttributeFactory.newAttribute(tag);
        a.addValue(v);
        l.put(a);
    }

    /**
     * Refused STOW requests are on audit.events (security-audit's observer, real broker): a bad token as
     * {@code authenticate} by {@code anonymous}, a viewer as {@code authorize}; the study UID in the path is not recorded.
     */
    /**
     * Issue 20 (found by MalformedInputScenarioIT): an image whose pixel attributes cannot describe its pixel data (a
     * 30000 x 30000 claim over 512 bytes, no BitsAllocated) and a Part-10 file whose meta names another instance than its
     * dataset used to be stored and reached every stage's dead-letter topic; they are refused at the door.
     */
    @Test
    @Order(8)
    void imagesWhosePixelAttributesOrFileMetaContradictTheirDataAreRefused() throws Exception {
        byte[] good = freshInstance("1.2.840.10008.5.1.4.1.1.4", 0);
        byte[] huge = withAttribute(good, TagFromName.Rows, "30000");
        byte[] noBits = withAttribute(good, TagFromName.BitsAllocated, null);
        byte[] otherMeta = withOtherMetaSop(good);
        List<InstanceReceived> before = KafkaStack.allEvents();
        HttpResponse<String> r = post(List.of(huge, noBits, otherMeta, good), "application/dicom");
        assertEquals(202, r.statusCode(), r.body());
        JsonNode body = EventJson.mapper().readTree(r.body());
        assertEquals(1, body.path("00081199").path("Value").size(), r.body());
        List<Integer> reasons = new ArrayList<>();
        body.path("00081198").path("Value").forEach(n -> reasons.add(n.path("00081197").path("Value").get(0).asInt()));
        assertEquals(List.of(0xC000, 0xC000, 0xA900), reasons, r.body());
        assertEquals(before.size() + 1, KafkaStack.allEvents().size(), "only the consistent instance reached Kafka");
    }

    /** The file with one attribute set (null: removed), its meta kept. */
    private static byte[] withAttribute(byte[] file, com.pixelmed.dicom.AttributeTag tag, String value) throws Exception {
        AttributeList l = new AttributeList();
        l.read(new com.pixelmed.dicom.DicomInputStream(new java.io.ByteArrayInputStream(file)));
        if (value == null) l.remove(tag);
        else {
            l.remove(tag);
            put(l, tag, value);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        l.write(out, TransferSyntax.ExplicitVRLittleEndian, true, true);
        return out.toByteArray();
    }

    /** The file with its meta's Media Storage SOP Instance UID changed in its last digit (same length: the group length holds). */
    private static byte[] withOtherMetaSop(byte[] file) throws Exception {
        AttributeList l = new AttributeList();
        l.read(new com.pixelmed.dicom.DicomInputStream(new java.io.ByteArrayInputStream(file)));
        String sop = com.pixelmed.dicom.Attribute.getSingleStringValueOrNull(l, TagFromName.MediaStorageSOPInstanceUID);
        char last = sop.charAt(sop.length() - 1);
        l.remove(TagFromName.MediaStorageSOPInstanceUID);
        put(l, TagFromName.MediaStorageSOPInstanceUID, sop.substring(0, sop.length() - 1) + (last == '1' ? '2' : '1'));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        l.write(out, TransferSyntax.ExplicitVRLittleEndian, true, true);
        return out.toByteArray();
    }

    @Test
    @Order(50)
    void refusedRequestsAreAudited() throws Exception {
        String study = "1.2.826.0.1.3680043.2.1125.50." + System.nanoTime();
        byte[] instance = freshInstance("1.2.840.10008.5.1.4.1.1.4", 0);
        int before = KafkaStack.auditEvents().size();
        assertEquals(401, post("/dicomweb/studies/" + study, List.of(instance), "application/dicom",
                "Bearer " + TestTokens.signedByAnotherKey("scanner")).statusCode());
        assertEquals(403, post("/dicomweb/studies/" + study, List.of(instance), "application/dicom", TestTokens.bearer("viewer")).statusCode());
        List<org.imagingpipeline.events.AuditEvent> denied = List.of();
        for (long end = System.nanoTime() + 60_000_000_000L; System.nanoTime() < end && denied.size() < 2; Thread.sleep(200)) {
            List<org.imagingpipeline.events.AuditEvent> all = KafkaStack.auditEvents();
            denied = all.subList(before, all.size()).stream().filter(e -> e.target().startsWith("POST /dicomweb/studies/")).toList();
        }
        assertEquals(List.of("ingest anonymous authenticate POST /dicomweb/studies/{uid} denied no valid bearer token",
                        "ingest test-viewer authorize POST /dicomweb/studies/{uid} denied token lacks the endpoint's role"),
                denied.stream().map(e -> e.service() + " " + e.principal() + " " + e.action() + " " + e.target() + " " + e.outcome()
                        + " " + e.detail()).sorted().toList());
        assertTrue(denied.stream().noneMatch(e -> e.toString().contains(study) || e.toString().contains("eyJ")), "no UID, no token");
    }

    private HttpResponse<String> post(List<byte[]> parts, String type) throws Exception {
        return post("/dicomweb/studies", parts, type);
    }

    private HttpResponse<String> post(String path, List<byte[]> parts, String type) throws Exception {
        return post(path, parts, type, TestTokens.bearer("scanner"));
    }

    /** A STOW-RS request with the given Authorization header value (null: none). */
    private HttpResponse<String> post(String path, List<byte[]> parts, String type, String authorization) throws Exception {
        String boundary = "b-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            body.writeBytes(("--" + boundary + "\r\nContent-Type: " + type + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            body.writeBytes(p);
            body.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        HttpRequest.Builder rq = HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "multipart/related; type=\"" + type + "\"; boundary=" + boundary)
                .header("Accept", "application/dicom+json")
                .timeout(Duration.ofSeconds(120))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()));
        if (authorization != null) rq.header("Authorization", authorization);
        return HTTP.send(rq.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + httpPort + path);
    }
}
