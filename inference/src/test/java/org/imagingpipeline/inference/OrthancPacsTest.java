package org.imagingpipeline.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Orthanc (Debian package) as the PACS, started here on free loopback ports with a generated configuration: the
 * SEG of a series reaches it by C-STORE (checked through its REST API); an unreachable PACS leaves the result OK
 * and asks for a DLQ record.
 */
class OrthancPacsTest {
    @TempDir
    static Path dir;
    static Process orthanc;
    static int httpPort;
    static int dicomPort;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void startOrthanc() throws Exception {
        Path binary = Prerequisites.program("Orthanc", "orthanc");
        httpPort = BrokerProcess.freePort();
        dicomPort = BrokerProcess.freePort();
        Path config = dir.resolve("orthanc.json");
        Files.writeString(config, """
                {
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
                  "Plugins": []
                }
                """.formatted(dir.resolve("storage"), dir.resolve("index"), httpPort, dicomPort));
        orthanc = new ProcessBuilder(binary.toString(), config.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("orthanc.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!orthanc.isAlive()) throw new IllegalStateException("Orthanc exited: " + Files.readString(dir.resolve("orthanc.log")));
            try {
                if (get("/system").statusCode() == 200) return;
            } catch (java.io.IOException e) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("Orthanc did not answer within 60 s: " + Files.readString(dir.resolve("orthanc.log")));
    }

    @AfterAll
    static void stopOrthanc() throws InterruptedException {
        if (orthanc != null) {
            orthanc.destroy();
            orthanc.waitFor();
        }
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void segIsStoredInOrthancByCStore() throws Exception {
        LocalBlobStore blobs = new LocalBlobStore(dir.resolve("blobs"), false);
        SeriesReady s = SyntheticSeries.write(blobs, "501", "dom-p", 3, 1);
        try (ModelSessions sessions = new ModelSessions("cpu", 1, 128, 0)) {
            Path m = dir.resolve("m.onnx");
            LoadedModel model = sessions.load(m.toString(), TinyModels.write(m, 1f, -150f, 16));
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            PacsSender pacs = new PacsSender(PacsSender.Address.parse("127.0.0.1:" + dicomPort + ":ORTHANC"), "INFERENCE",
                    Duration.ofSeconds(10));
            SeriesProcessor.Outcome out = new SeriesProcessor(new SeriesLoader(blobs),
                    d -> Optional.of(new ModelRoute("default", "v1", "tiny", m.toString(), model)),
                    new SeriesSegmenter(4, new ComponentCleanup(0)), blobs, pacs, new InferenceMetrics(meters)).process(s);
            assertEquals(SegmentationResult.Status.OK, out.result().status(), out.result().error());
            assertNull(out.dlqReason());
            assertEquals(1.0, meters.get("inference.pacs").tag("outcome", "stored").counter().count());

            String segUid = out.result().seg().sopInstanceUid();
            HttpResponse<String> found = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
                    + "/tools/find")).POST(HttpRequest.BodyPublishers.ofString("{\"Level\":\"Instance\",\"Expand\":true,"
                    + "\"Query\":{\"SOPInstanceUID\":\"" + segUid + "\"}}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, found.statusCode(), found.body());
            assertTrue(found.body().contains(segUid), "Orthanc has the SEG: " + found.body());
            String id = found.body().replaceAll("(?s).*?\"ID\"\\s*:\\s*\"([^\"]+)\".*", "$1");
            String tags = get("/instances/" + id + "/simplified-tags").body();
            assertTrue(tags.contains("1.2.840.10008.5.1.4.1.1.66.4"), tags);
            assertTrue(tags.contains(s.seriesInstanceUid()), "the SEG references the source series: " + tags);
            assertTrue(tags.contains(s.studyInstanceUid()), tags);

            PacsSender nowhere = new PacsSender(PacsSender.Address.parse("127.0.0.1:" + BrokerProcess.freePort() + ":NONE"),
                    "INFERENCE", Duration.ofSeconds(2));
            SeriesProcessor.Outcome refused = new SeriesProcessor(new SeriesLoader(blobs),
                    d -> Optional.of(new ModelRoute("default", "v1", "tiny", m.toString(), model)),
                    new SeriesSegmenter(4, new ComponentCleanup(0)), blobs, nowhere, new InferenceMetrics(meters)).process(s);
            assertEquals(SegmentationResult.Status.OK, refused.result().status());
            assertTrue(refused.dlqReason().startsWith("PACS_STORE_FAILED"), refused.dlqReason());
        }
    }
}
