package org.imagingpipeline.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.localca.LocalCa;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Orthanc (Debian package) as the PACS, started here on free loopback ports with a generated configuration, once with
 * plain DIMSE and once with DICOM TLS only (the local CA's certificate, client certificates required): the SEG of a
 * series reaches it by C-STORE (checked through its REST API); an unreachable PACS, or one that refuses our TLS
 * handshake, leaves the result OK and asks for a DLQ record. HTTP keep-alive is off in the test's Orthanc: it closes an
 * idle connection after one second, and the JDK client could reuse such a connection for a POST, which it does not retry
 * ("header parser received no bytes", landing CI of 538ac73).
 */
class OrthancPacsTest {
    @TempDir
    static Path dir;
    static Orthanc plain;
    static Orthanc tls;
    static Path secrets;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** One Orthanc process: its folder, REST and DICOM ports. */
    record Orthanc(Process process, Path dir, int httpPort, int dicomPort) {
        /** Starts Orthanc with the base configuration plus {@code extraJson} (members, each followed by a comma). */
        static Orthanc start(Path dir, String extraJson) throws Exception {
            Path binary = Prerequisites.program("Orthanc", "orthanc");
            Files.createDirectories(dir);
            int httpPort = BrokerProcess.freePort();
            int dicomPort = BrokerProcess.freePort();
            Path config = dir.resolve("orthanc.json");
            Files.writeString(config, """
                    {
                      %s
                      "Name": "inference-test",
                      "StorageDirectory": "%s",
                      "IndexDirectory": "%s",
                      "HttpPort": %d,
                      "DicomPort": %d,
                      "DicomAet": "ORTHANC",
                      "RemoteAccessAllowed": false,
                      "AuthenticationEnabled": false,
                      "DicomCheckCalledAet": true,
                      "DicomAlwaysAllowStore": true,
                      "KeepAlive": false,
                      "Plugins": []
                    }
                    """.formatted(extraJson, dir.resolve("storage"), dir.resolve("index"), httpPort, dicomPort));
            Process p = new ProcessBuilder(binary.toString(), config.toString()).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("orthanc.log").toFile()).start();
            Orthanc o = new Orthanc(p, dir, httpPort, dicomPort);
            long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
            while (System.nanoTime() < deadline) {
                if (!p.isAlive()) throw new IllegalStateException("Orthanc exited: " + Files.readString(dir.resolve("orthanc.log")));
                try {
                    if (o.get("/system").statusCode() == 200) return o;
                } catch (java.io.IOException e) {
                    // not listening yet
                }
                Thread.sleep(250);
            }
            throw new IllegalStateException("Orthanc did not answer within 180 s: " + Files.readString(dir.resolve("orthanc.log")));
        }

        HttpResponse<String> get(String path) throws Exception {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).build(), HttpResponse.BodyHandlers.ofString());
        }

        /** The instance's simplified tags, or fails when Orthanc does not have it. */
        String tagsOf(String sopInstanceUid) throws Exception {
            HttpResponse<String> found = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
                    + "/tools/find")).POST(HttpRequest.BodyPublishers.ofString("{\"Level\":\"Instance\",\"Expand\":true,"
                    + "\"Query\":{\"SOPInstanceUID\":\"" + sopInstanceUid + "\"}}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, found.statusCode(), found.body());
            assertTrue(found.body().contains(sopInstanceUid), "Orthanc has the SEG: " + found.body());
            String id = found.body().replaceAll("(?s).*?\"ID\"\\s*:\\s*\"([^\"]+)\".*", "$1");
            return get("/instances/" + id + "/simplified-tags").body();
        }

        void stop() throws InterruptedException {
            process.destroy();
            process.waitFor();
        }
    }

    @BeforeAll
    static void startOrthanc() throws Exception {
        plain = Orthanc.start(dir.resolve("plain"), "");
        // DICOM TLS (Orthanc >= 1.9): the local CA's "pacs" certificate; clients need one of the CA.
        secrets = dir.resolve("secrets");
        LocalCa ca = LocalCa.ensure(secrets);
        ca.issue("pacs", List.of());
        ca.issue("inference", List.of());
        tls = Orthanc.start(dir.resolve("tls"), """
                "DicomTlsEnabled": true,
                "DicomTlsCertificate": "%s",
                "DicomTlsPrivateKey": "%s",
                "DicomTlsTrustedCertificates": "%s",
                "DicomTlsRemoteCertificateRequired": true,
                """.formatted(secrets.resolve("pacs.pem"), secrets.resolve("pacs-key.pem"), secrets.resolve("ca.pem")));
    }

    @AfterAll
    static void stopOrthanc() throws InterruptedException {
        if (plain != null) plain.stop();
        if (tls != null) tls.stop();
    }

    @Test
    void segIsStoredInOrthancByCStore() throws Exception {
        LocalBlobStore blobs = new LocalBlobStore(dir.resolve("blobs"), false);
        SeriesReady s = SyntheticSeries.write(blobs, "501", "dom-p", 3, 1);
        try (ModelSessions sessions = new ModelSessions("cpu", 1, 128, 0)) {
            Path m = dir.resolve("m.onnx");
            LoadedModel model = sessions.load(m.toString(), TinyModels.write(m, 1f, -150f, 16));
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            PacsSender pacs = new PacsSender(PacsSender.Address.parse("127.0.0.1:" + plain.dicomPort() + ":ORTHANC"), "INFERENCE",
                    Duration.ofSeconds(60));
            SeriesProcessor.Outcome out = process(blobs, m, model, pacs, meters, s);
            assertEquals(SegmentationResult.Status.OK, out.result().status(), out.result().error());
            assertNull(out.dlqReason());
            assertEquals(2.0, meters.get("inference.pacs").tag("outcome", "stored").counter().count(), "the SEG and the SR");

            String segUid = out.result().seg().sopInstanceUid();
            String tags = plain.tagsOf(segUid);
            assertTrue(tags.contains("1.2.840.10008.5.1.4.1.1.66.4"), tags);
            assertTrue(tags.contains(s.seriesInstanceUid()), "the SEG references the source series: " + tags);
            assertTrue(tags.contains(s.studyInstanceUid()), tags);
            String srTags = plain.tagsOf(out.result().sr().sopInstanceUid());
            assertTrue(srTags.contains("1.2.840.10008.5.1.4.1.1.88.33") && srTags.contains(s.studyInstanceUid()),
                    "the PACS has the measurement report in the same study: " + srTags);

            PacsSender nowhere = new PacsSender(PacsSender.Address.parse("127.0.0.1:" + BrokerProcess.freePort() + ":NONE"),
                    "INFERENCE", Duration.ofSeconds(2));
            SeriesProcessor.Outcome refused = process(blobs, m, model, nowhere, meters, s);
            assertEquals(SegmentationResult.Status.OK, refused.result().status());
            assertTrue(refused.dlqReason().startsWith("PACS_STORE_FAILED"), refused.dlqReason());
        }
    }

    @Test
    void segIsStoredOverDicomTlsAndAClientWithoutACertificateIsRefused() throws Exception {
        LocalBlobStore blobs = new LocalBlobStore(dir.resolve("blobs-tls"), false);
        SeriesReady s = SyntheticSeries.write(blobs, "711", "dom-t", 3, 1);
        try (ModelSessions sessions = new ModelSessions("cpu", 1, 128, 0)) {
            Path m = dir.resolve("m-tls.onnx");
            LoadedModel model = sessions.load(m.toString(), TinyModels.write(m, 1f, -150f, 16));
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            PacsSender.Address at = PacsSender.Address.parse("127.0.0.1:" + tls.dicomPort() + ":ORTHANC");
            PacsSender pacs = new PacsSender(at, "INFERENCE", Duration.ofSeconds(60), PacsSender.tls(settings(true)));
            assertTrue(pacs.tls());
            SeriesProcessor.Outcome out = process(blobs, m, model, pacs, meters, s);
            assertEquals(SegmentationResult.Status.OK, out.result().status(), out.result().error());
            assertNull(out.dlqReason());
            String tags = tls.tagsOf(out.result().seg().sopInstanceUid());
            assertTrue(tags.contains(s.seriesInstanceUid()), tags);

            // Without our client certificate Orthanc refuses the handshake: the result stays OK, a DLQ record is asked for.
            PacsSender anonymous = new PacsSender(at, "INFERENCE", Duration.ofSeconds(30), PacsSender.tls(settings(false)));
            SeriesProcessor.Outcome refused = process(blobs, m, model, anonymous, meters, s);
            assertEquals(SegmentationResult.Status.OK, refused.result().status());
            assertTrue(refused.dlqReason().startsWith("PACS_STORE_FAILED"), refused.dlqReason());
            // Plain DIMSE to the TLS PACS fails too.
            PacsSender clear = new PacsSender(at, "INFERENCE", Duration.ofSeconds(10));
            assertThrows(java.io.IOException.class, () -> clear.store(Files.readAllBytes(Path.of(URI.create(out.result().seg().blob().uri())))));
        }
    }

    /** The series through the real processor with the tiny model, sending its SEG to {@code pacs}. */
    private static SeriesProcessor.Outcome process(LocalBlobStore blobs, Path m, LoadedModel model, PacsSender pacs, SimpleMeterRegistry meters,
                                                   SeriesReady s) throws InterruptedException {
        return new SeriesProcessor(new SeriesLoader(blobs), d -> Optional.of(new ModelRoute("default", "v1", "tiny", m.toString(), model)),
                new SeriesSegmenter(4, new ComponentCleanup(0)), blobs, pacs, new InferenceMetrics(meters)).process(s);
    }

    /** inference.pacs-tls.* as application.properties would give them: the local CA, with or without our certificate. */
    private static InferenceConfig.PacsTls settings(boolean withCertificate) {
        return new InferenceConfig.PacsTls() {
            public boolean enabled() {
                return true;
            }

            public Optional<String> trustStore() {
                return Optional.of(secrets.resolve("ca.pem").toString());
            }

            public Optional<String> trustStorePassword() {
                return Optional.empty();
            }

            public Optional<String> certificate() {
                return withCertificate ? Optional.of(secrets.resolve("inference.pem").toString()) : Optional.empty();
            }

            public Optional<String> privateKey() {
                return withCertificate ? Optional.of(secrets.resolve("inference-key.pem").toString()) : Optional.empty();
            }
        };
    }
}
