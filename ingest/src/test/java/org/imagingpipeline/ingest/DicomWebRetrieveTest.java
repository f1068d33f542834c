package org.imagingpipeline.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeFactory;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.AttributeTag;
import com.pixelmed.dicom.FileMetaInformation;
import com.pixelmed.dicom.OtherByteAttribute;
import com.pixelmed.dicom.OtherWordAttribute;
import com.pixelmed.dicom.TagFromName;
import com.pixelmed.dicom.TransferSyntax;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.ingest.stow.MultipartRelated;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.testsupport.auth.TestTokens;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * QIDO-RS and WADO-RS against the real service and broker: instances stored by STOW-RS, a SEG published on
 * imaging.segmentation.results as inference publishes it, then searched and retrieved with a plain HTTP client.
 */
@QuarkusTest
@QuarkusTestResource(value = KafkaStack.class, restrictToAnnotatedClass = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DicomWebRetrieveTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private static final String MR = "1.2.840.10008.5.1.4.1.1.4";
    private static final String EXPLICIT_LE = "1.2.840.10008.1.2.1";
    private static final String STUDY = uid();
    private static final String SERIES_1 = uid();
    private static final String SERIES_2 = uid();
    private static final String SEG_SERIES = uid();
    private static final String SEG_SOP = uid();
    private static final String SR_SERIES = uid();
    private static final String SR_SOP = uid();
    /** SOP Instance UID -> the Part-10 bytes sent. */
    private static final Map<String, byte[]> SENT = new java.util.LinkedHashMap<>();
    private static byte[] segBytes;
    private static byte[] srBytes;

    @ConfigProperty(name = "quarkus.http.test-port")
    int httpPort;

    @Test
    @Order(1)
    void storedInstancesAreFoundWithTheirCountsAndRetrieveUrls() throws Exception {
        for (int n = 1; n <= 2; n++) SENT.put(uid(), null);
        SENT.put(uid(), null);
        List<String> sops = new ArrayList<>(SENT.keySet());
        List<byte[]> parts = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            byte[] b = image(sops.get(n), n < 2 ? SERIES_1 : SERIES_2, n < 2 ? n + 1 : 1);
            SENT.put(sops.get(n), b);
            parts.add(b);
        }
        HttpResponse<String> stored = stow(parts);
        assertEquals(200, stored.statusCode(), stored.body());

        JsonNode studies = awaitJson("/dicomweb/studies?StudyInstanceUID=" + STUDY, a -> a.size() == 1
                && a.get(0).path("00201208").path("Value").get(0).asInt() == 3);
        JsonNode study = studies.get(0);
        assertEquals(2, study.path("00201206").path("Value").get(0).asInt(), study.toString());
        assertEquals("[\"MR\"]", study.path("00080061").path("Value").toString());
        assertEquals("DW-PATIENT", study.path("00100020").path("Value").get(0).asText());
        assertEquals("ACC-DW", study.path("00080050").path("Value").get(0).asText());
        assertEquals("20240315", study.path("00080020").path("Value").get(0).asText());
        assertEquals("http://127.0.0.1:" + httpPort + "/dicomweb/studies/" + STUDY, study.path("00081190").path("Value").get(0).asText());
        assertTrue(study.path("00100010").isMissingNode() && study.path("00100030").isMissingNode(), "no name, no birth date");

        JsonNode series = getJson("/dicomweb/studies/" + STUDY + "/series");
        assertEquals(2, series.size());
        assertEquals(2, series.get(0).path("00201209").path("Value").get(0).asInt());
        assertEquals(SERIES_1, series.get(0).path("0020000E").path("Value").get(0).asText());
        assertEquals(1, series.get(1).path("00201209").path("Value").get(0).asInt());
        JsonNode instances = getJson("/dicomweb/studies/" + STUDY + "/series/" + SERIES_1 + "/instances");
        assertEquals(List.of(sops.get(0), sops.get(1)), texts(instances, "00080018"));
        assertEquals("http://127.0.0.1:" + httpPort + "/dicomweb/studies/" + STUDY + "/series/" + SERIES_1 + "/instances/" + sops.get(1),
                instances.get(1).path("00081190").path("Value").get(0).asText());
        assertEquals(3, getJson("/dicomweb/studies/" + STUDY + "/instances").size());
        assertEquals(3, getJson("/dicomweb/instances?PatientID=DW-PATIENT&StudyDate=20240301-20240331").size());
        assertEquals(1, getJson("/dicomweb/instances?00080018=" + sops.get(2)).size());
        assertEquals(2, getJson("/dicomweb/series?ModalitiesInStudy=MR&0020000D=" + STUDY).size());
        assertEquals(1, getJson("/dicomweb/series?StudyInstanceUID=" + STUDY + "&limit=1&offset=1").size());
        assertEquals(0, getJson("/dicomweb/studies?AccessionNumber=NOT-THERE").size(), "no match: 200 and []");

        HttpResponse<String> unknownKey = get("/dicomweb/studies?PatientName=X", TestTokens.bearer("viewer"), null);
        assertEquals(400, unknownKey.statusCode());
        assertTrue(unknownKey.body().contains("PatientName"), unknownKey.body());
    }

    @Test
    @Order(2)
    void wadoRsReturnsTheStoredBytesAsMultipart() throws Exception {
        List<byte[]> study = retrieve("/dicomweb/studies/" + STUDY, null);
        assertEquals(3, study.size());
        for (byte[] part : study) assertTrue(SENT.values().stream().anyMatch(b -> java.util.Arrays.equals(b, part)), "byte-identical part");
        List<String> sops = new ArrayList<>(SENT.keySet());
        List<byte[]> series = retrieve("/dicomweb/studies/" + STUDY + "/series/" + SERIES_1,
                "multipart/related; type=\"application/dicom\"; transfer-syntax=*");
        assertEquals(2, series.size());
        assertArrayEquals(SENT.get(sops.get(0)), series.get(0));
        assertArrayEquals(SENT.get(sops.get(1)), series.get(1));
        String instancePath = "/dicomweb/studies/" + STUDY + "/series/" + SERIES_2 + "/instances/" + sops.get(2);
        assertArrayEquals(SENT.get(sops.get(2)), retrieve(instancePath,
                "multipart/related; type=\"application/dicom\"; transfer-syntax=" + EXPLICIT_LE).get(0));

        String viewer = TestTokens.bearer("viewer");
        assertEquals(406, get(instancePath, viewer, "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.50")
                .statusCode(), "no transcoding");
        assertEquals(404, get("/dicomweb/studies/1.2.3.404", viewer, null).statusCode());
        assertEquals(404, get("/dicomweb/studies/" + STUDY + "/series/1.2.3.404", viewer, null).statusCode());
        assertEquals(404, get("/dicomweb/studies/1.2.3.404/series/" + SERIES_2 + "/instances/" + sops.get(2), viewer, null).statusCode());
    }

    @Test
    @Order(3)
    void metadataHasNoPixelDataAndNoPatientName() throws Exception {
        JsonNode all = getJson("/dicomweb/studies/" + STUDY + "/metadata");
        assertEquals(3, all.size());
        for (JsonNode d : all) {
            assertEquals(STUDY, d.path("0020000D").path("Value").get(0).asText());
            assertEquals("DW-PATIENT", d.path("00100020").path("Value").get(0).asText());
            assertTrue(d.path("7FE00010").isMissingNode(), "no PixelData");
            assertTrue(d.path("00100010").isMissingNode() && d.path("00100030").isMissingNode(), "no name, no birth date: " + d);
            assertFalse(d.toString().contains("Secret"), d.toString());
            assertEquals(16, d.path("00280010").path("Value").get(0).asInt());
        }
        List<String> sops = new ArrayList<>(SENT.keySet());
        JsonNode one = getJson("/dicomweb/studies/" + STUDY + "/series/" + SERIES_1 + "/instances/" + sops.get(1) + "/metadata");
        assertEquals(1, one.size());
        assertEquals(sops.get(1), one.get(0).path("00080018").path("Value").get(0).asText());
        assertEquals(2, getJson("/dicomweb/studies/" + STUDY + "/series/" + SERIES_1 + "/metadata").size());
    }

    @Test
    @Order(4)
    void renderedIsADecodablePng() throws Exception {
        List<String> sops = new ArrayList<>(SENT.keySet());
        HttpResponse<byte[]> r = HTTP.send(request("/dicomweb/studies/" + STUDY + "/series/" + SERIES_1 + "/instances/" + sops.get(0)
                + "/rendered", TestTokens.bearer("viewer"), "image/png").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertEquals("image/png", r.headers().firstValue("Content-Type").orElse(""));
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.body()));
        assertNotNull(img);
        assertEquals(16, img.getWidth());
        assertEquals(16, img.getHeight());
        assertTrue((img.getRGB(0, 0) & 0xff) < (img.getRGB(15, 15) & 0xff), "a gradient, windowed");
    }

    @Test
    @Order(5)
    void viewerOrAdminOnly() throws Exception {
        String path = "/dicomweb/studies?StudyInstanceUID=" + STUDY;
        assertEquals(401, get(path, null, null).statusCode());
        assertEquals(401, get(path, "Bearer " + TestTokens.signedByAnotherKey("viewer"), null).statusCode());
        assertEquals(403, get(path, TestTokens.bearer("scanner"), null).statusCode());
        assertEquals(403, get(path, TestTokens.bearer("mlops"), null).statusCode());
        assertEquals(403, get("/dicomweb/studies/" + STUDY, TestTokens.bearer("scanner"), null).statusCode());
        assertEquals(200, get(path, TestTokens.bearer("viewer"), null).statusCode());
        assertEquals(200, get(path, TestTokens.bearer("admin"), null).statusCode());
        // STOW-RS beside it still takes scanner tokens only.
        assertEquals(403, stow(List.of(image(uid(), SERIES_2, 9)), TestTokens.bearer("viewer")).statusCode());
    }

    @Test
    @Order(6)
    void aPublishedSegAppearsUnderItsSourceStudyAndIsRetrievable() throws Exception {
        segBytes = seg();
        LocalBlobStore blobs = new LocalBlobStore(KafkaStack.home.resolve("ingest/blobs"), false);
        BlobRef ref = blobs.put(segBytes, "application/dicom");
        srBytes = sr();
        BlobRef srRef = blobs.put(srBytes, "application/dicom");
        SegmentationResult result = new SegmentationResult(SegmentationResult.SCHEMA_VERSION,
                SegmentationResult.eventIdFor(SERIES_1, "1"), SegmentationResult.Status.OK, null, STUDY, SERIES_1, null, "DW-PATIENT", null,
                "ACC-DW", "MR", 2, "20240315", "site-a", new SegmentationResult.Model("unet", "1", "0".repeat(64)),
                null, new SegmentationResult.Seg(SEG_SOP, SEG_SERIES, ref),
                new SegmentationResult.Sr(SR_SOP, SR_SERIES, srRef, null), null, Instant.now());
        try (KafkaProducer<String, byte[]> producer = KafkaClients.of(KafkaStack.broker.bootstrap()).producer(Map.of())) {
            // A record nobody can read first: skipped with a WARN, the reader goes on.
            producer.send(new ProducerRecord<>(Topics.SEGMENTATION_RESULTS, SERIES_1, "{not json".getBytes(StandardCharsets.UTF_8))).get();
            producer.send(new ProducerRecord<>(Topics.SEGMENTATION_RESULTS, SERIES_1, EventJson.mapper().writeValueAsBytes(result))).get();
            // Redelivered: still one instance.
            producer.send(new ProducerRecord<>(Topics.SEGMENTATION_RESULTS, SERIES_1, EventJson.mapper().writeValueAsBytes(result))).get();
        }
        JsonNode series = awaitJson("/dicomweb/studies/" + STUDY + "/series?Modality=SEG", a -> a.size() == 1);
        assertEquals(SEG_SERIES, series.get(0).path("0020000E").path("Value").get(0).asText());
        assertEquals(1, series.get(0).path("00201209").path("Value").get(0).asInt());
        JsonNode study = awaitJson("/dicomweb/studies?StudyInstanceUID=" + STUDY, a -> a.size() == 1
                && a.get(0).path("00201206").path("Value").get(0).asInt() == 4).get(0);
        assertEquals(5, study.path("00201208").path("Value").get(0).asInt(), "2 + 1 MR images, the SEG and the SR");
        assertEquals("[\"MR\",\"SEG\",\"SR\"]", study.path("00080061").path("Value").toString());
        // The measurement report (TID 1500) beside the SEG: found and retrieved byte for byte.
        List<byte[]> srParts = retrieve("/dicomweb/studies/" + STUDY + "/series/" + SR_SERIES + "/instances/" + SR_SOP, null);
        assertEquals(1, srParts.size());
        assertArrayEquals(srBytes, srParts.get(0));
        JsonNode instance = getJson("/dicomweb/instances?SOPInstanceUID=" + SEG_SOP).get(0);
        assertEquals("1.2.840.10008.5.1.4.1.1.66.4", instance.path("00080016").path("Value").get(0).asText());
        assertEquals(EXPLICIT_LE, instance.path("00083002").path("Value").get(0).asText());

        List<byte[]> parts = retrieve("/dicomweb/studies/" + STUDY + "/series/" + SEG_SERIES, null);
        assertEquals(1, parts.size());
        assertArrayEquals(segBytes, parts.get(0));
        String segPath = "/dicomweb/studies/" + STUDY + "/series/" + SEG_SERIES + "/instances/" + SEG_SOP;
        assertEquals(406, get(segPath + "/rendered", TestTokens.bearer("viewer"), "image/png").statusCode());
        JsonNode meta = getJson(segPath + "/metadata").get(0);
        assertEquals("SEG", meta.path("00080060").path("Value").get(0).asText());
        assertTrue(meta.path("7FE00010").isMissingNode());
        assertTrue(metric("ingest_dicomweb_index_refused_total{reason=\"unreadable\"}") >= 1);
        assertTrue(metric("ingest_dicomweb_indexed_instances") >= 5);
        // Who read which images is on audit.events (one event per principal, access and study within the window).
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<org.imagingpipeline.events.AuditEvent> reads = List.of();
        while (reads.isEmpty() && System.nanoTime() < deadline) {
            reads = KafkaStack.auditEvents().stream().filter(a -> "dicomweb-retrieve".equals(a.action())
                    && ("study " + STUDY).equals(a.target())).toList();
            if (reads.isEmpty()) Thread.sleep(500);
        }
        assertFalse(reads.isEmpty(), "a WADO-RS retrieval of the study is audited");
        assertEquals("allowed", reads.get(0).outcome());
        assertFalse(reads.get(0).principal().isBlank() || "anonymous".equals(reads.get(0).principal()), reads.get(0).toString());
        List<org.imagingpipeline.events.AuditEvent> searches = KafkaStack.auditEvents().stream()
                .filter(a -> "dicomweb-search".equals(a.action())).toList();
        assertTrue(searches.stream().anyMatch(a -> a.detail().contains("PatientID")), "QIDO-RS searches are audited: " + searches);
        assertTrue(searches.stream().noneMatch(a -> (a.target() + a.detail()).contains("DW-PATIENT")),
                "with the query's keys, never its values: " + searches);
    }

    @Test
    @Order(7)
    void aBlobMissingFromTheStoreIs404NotA500() throws Exception {
        String sop = uid();
        String series = uid();
        assertEquals(200, stow(List.of(image(sop, series, 1))).statusCode());
        String path = "/dicomweb/studies/" + STUDY + "/series/" + series + "/instances/" + sop;
        awaitJson("/dicomweb/instances?SOPInstanceUID=" + sop, a -> a.size() == 1);
        InstanceReceived event = KafkaStack.allEvents().stream().filter(e -> e.sopInstanceUid().equals(sop)).findFirst().orElseThrow();
        Files.delete(Path.of(URI.create(event.blob().uri())));
        String viewer = TestTokens.bearer("viewer");
        assertEquals(404, get(path, viewer, null).statusCode());
        assertEquals(404, get(path + "/metadata", viewer, null).statusCode());
        assertEquals(404, get(path + "/rendered", viewer, null).statusCode());
        assertEquals(404, get("/dicomweb/studies/" + STUDY + "/series/" + series, viewer, null).statusCode());
    }

    // ------------------------------------------------------------------ helpers

    private List<byte[]> retrieve(String path, String accept) throws Exception {
        HttpResponse<byte[]> r = HTTP.send(request(path, TestTokens.bearer("viewer"), accept).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        String type = r.headers().firstValue("Content-Type").orElse("");
        Map<String, String> params = MultipartRelated.parameters(type);
        assertEquals("multipart/related", params.get(""));
        assertEquals("application/dicom", params.get("type"));
        MultipartRelated multipart = new MultipartRelated(new ByteArrayInputStream(r.body()), params.get("boundary"));
        List<byte[]> parts = new ArrayList<>();
        Map<String, String> headers;
        while ((headers = multipart.next()) != null) {
            assertTrue(MultipartRelated.contentType(headers).startsWith("application/dicom"), headers.toString());
            ByteArrayOutputStream part = new ByteArrayOutputStream();
            multipart.copy(part, Long.MAX_VALUE);
            parts.add(part.toByteArray());
        }
        return parts;
    }

    private JsonNode getJson(String path) throws Exception {
        HttpResponse<String> r = get(path, TestTokens.bearer("viewer"), "application/dicom+json");
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/dicom+json"));
        return EventJson.mapper().readTree(r.body());
    }

    /** Polls a QIDO search until its answer passes (the index is fed asynchronously from Kafka). */
    private JsonNode awaitJson(String path, Predicate<JsonNode> until) throws Exception {
        JsonNode last = null;
        for (long end = System.nanoTime() + 60_000_000_000L; System.nanoTime() < end; Thread.sleep(200)) {
            last = getJson(path);
            if (until.test(last)) return last;
        }
        throw new AssertionError(path + " never matched; last answer " + last);
    }

    private HttpResponse<String> get(String path, String authorization, String accept) throws Exception {
        return HTTP.send(request(path, authorization, accept).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder request(String path, String authorization, String accept) {
        HttpRequest.Builder rq = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).timeout(Duration.ofSeconds(60)).GET();
        if (authorization != null) rq.header("Authorization", authorization);
        if (accept != null) rq.header("Accept", accept);
        return rq;
    }

    private HttpResponse<String> stow(List<byte[]> parts) throws Exception {
        return stow(parts, TestTokens.bearer("scanner"));
    }

    private HttpResponse<String> stow(List<byte[]> parts, String authorization) throws Exception {
        String boundary = "b-" + UUID.randomUUID();
        byte[] body = StowIngestTest.multipart(boundary, parts);
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/dicomweb/studies"))
                .header("Content-Type", "multipart/related; type=\"application/dicom\"; boundary=" + boundary)
                .header("Authorization", authorization).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private double metric(String nameWithLabels) throws Exception {
        String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (String line : body.split("\n")) {
            if (line.startsWith(nameWithLabels + " ")) return Double.parseDouble(line.substring(nameWithLabels.length() + 1).trim());
        }
        return 0;
    }

    private static List<String> texts(JsonNode array, String tag) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.path(tag).path("Value").get(0).asText()));
        return out;
    }

    private static String uid() {
        UUID u = UUID.randomUUID();
        byte[] b = java.nio.ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
        return "2.25." + new BigInteger(1, b);
    }

    /** The attributes every test instance of the study shares (a patient name and birth date the service must not return). */
    private static AttributeList studyAttributes(String sopClass, String sop, String series, String modality) throws Exception {
        AttributeList l = new AttributeList();
        put(l, TagFromName.SOPClassUID, sopClass);
        put(l, TagFromName.SOPInstanceUID, sop);
        put(l, TagFromName.StudyInstanceUID, STUDY);
        put(l, TagFromName.SeriesInstanceUID, series);
        put(l, TagFromName.Modality, modality);
        put(l, TagFromName.PatientID, "DW-PATIENT");
        put(l, TagFromName.PatientName, "Secret^Name");
        put(l, TagFromName.PatientBirthDate, "19700101");
        put(l, TagFromName.AccessionNumber, "ACC-DW");
        put(l, TagFromName.StudyDate, "20240315");
        put(l, TagFromName.Rows, "16");
        put(l, TagFromName.Columns, "16");
        put(l, TagFromName.SamplesPerPixel, "1");
        put(l, TagFromName.PhotometricInterpretation, "MONOCHROME2");
        return l;
    }

    /** A 16x16 MR image with a gradient and a window, as a Part-10 file. */
    private static byte[] image(String sop, String series, int number) throws Exception {
        AttributeList l = studyAttributes(MR, sop, series, "MR");
        put(l, TagFromName.SeriesNumber, series.equals(SERIES_1) ? "1" : "2");
        put(l, TagFromName.InstanceNumber, Integer.toString(number));
        put(l, TagFromName.SeriesDescription, "FLAIR");
        put(l, TagFromName.BitsAllocated, "16");
        put(l, TagFromName.BitsStored, "16");
        put(l, TagFromName.HighBit, "15");
        put(l, TagFromName.PixelRepresentation, "0");
        put(l, TagFromName.WindowCenter, "300");
        put(l, TagFromName.WindowWidth, "600");
        short[] px = new short[256];
        for (int i = 0; i < px.length; i++) px[i] = (short) (i * 3 + number);
        OtherWordAttribute pixels = new OtherWordAttribute(TagFromName.PixelData);
        pixels.setValues(px);
        l.put(pixels);
        return part10(l);
    }

    /** A minimal binary SEG of the study (one 16x16 frame), as inference's SEG writer would file it. */
    private static byte[] seg() throws Exception {
        AttributeList l = studyAttributes("1.2.840.10008.5.1.4.1.1.66.4", SEG_SOP, SEG_SERIES, "SEG");
        put(l, TagFromName.SeriesNumber, "99");
        put(l, TagFromName.InstanceNumber, "1");
        put(l, TagFromName.SeriesDescription, "lesion segmentation");
        put(l, TagFromName.NumberOfFrames, "1");
        put(l, TagFromName.BitsAllocated, "1");
        put(l, TagFromName.BitsStored, "1");
        put(l, TagFromName.HighBit, "0");
        put(l, TagFromName.SegmentationType, "BINARY");
        OtherByteAttribute pixels = new OtherByteAttribute(TagFromName.PixelData);
        byte[] bits = new byte[32];
        bits[5] = (byte) 0xff;
        pixels.setValues(bits);
        l.put(pixels);
        return part10(l);
    }

    /** A minimal Comprehensive SR of the study, standing in for inference's measurement report. */
    private static byte[] sr() throws Exception {
        AttributeList l = studyAttributes("1.2.840.10008.5.1.4.1.1.88.33", SR_SOP, SR_SERIES, "SR");
        put(l, TagFromName.SeriesNumber, "98");
        put(l, TagFromName.InstanceNumber, "1");
        put(l, TagFromName.ValueType, "CONTAINER");
        put(l, TagFromName.CompletionFlag, "COMPLETE");
        put(l, TagFromName.VerificationFlag, "UNVERIFIED");
        return part10(l);
    }

    private static byte[] part10(AttributeList l) throws Exception {
        FileMetaInformation.addFileMetaInformation(l, TransferSyntax.ExplicitVRLittleEndian, "TEST");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        l.write(out, TransferSyntax.ExplicitVRLittleEndian, true, true);
        return out.toByteArray();
    }

    private static void put(AttributeList l, AttributeTag tag, String v) throws Exception {
        Attribute a = AttributeFactory.newAttribute(tag);
        a.addValue(v);
        l.put(a);
    }

}
