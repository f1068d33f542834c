package org.imagingpipeline.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The failure policy: a transient failure (here a blob the store does not show yet) is handed back for another attempt
 * and publishes nothing until the last attempt; a permanent one (an undecodable slice) gets its ERROR result at once; a
 * PACS that is not there yet is tried again with a delay (dcmtk's storescp, started late, receives the SEG); a C-STORE
 * failure status tells a refusal from an overload.
 */
class FailurePolicyTest {
    @TempDir
    static Path dir;
    static ModelSessions sessions;
    static LoadedModel thresholdAt150;
    static Path modelFile;

    @BeforeAll
    static void setUp() throws Exception {
        sessions = new ModelSessions("cpu", 1, 128, 0);
        modelFile = dir.resolve("a.onnx");
        thresholdAt150 = sessions.load(modelFile.toUri().toString(), TinyModels.write(modelFile, 1f, -150f, 16));
    }

    @AfterAll
    static void tearDown() {
        sessions.close();
    }

    private static SeriesProcessor processor(LocalBlobStore blobs, PacsSender pacs, SimpleMeterRegistry meters,
                                             SeriesProcessor.FailurePolicy policy) {
        return new SeriesProcessor(new SeriesLoader(blobs), d -> Optional.of(new ModelRoute("default", "v1", "tiny", modelFile.toString(),
                thresholdAt150)), new SeriesSegmenter(4, new ComponentCleanup(0)), blobs, pacs, new InferenceMetrics(meters), policy);
    }

    @Test
    void aBlobThatIsNotThereYetIsTriedAgainAndSegmentedOnceItAppears() throws Exception {
        LocalBlobStore elsewhere = new LocalBlobStore(dir.resolve("elsewhere"), false);
        LocalBlobStore blobs = new LocalBlobStore(dir.resolve("late"), false);
        SeriesReady s = SyntheticSeries.write(elsewhere, "601", "dom-r", 3, 1);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        SeriesProcessor p = processor(blobs, null, meters, new SeriesProcessor.FailurePolicy(4, 1, Duration.ZERO));

        SeriesProcessor.Outcome first = p.process(s, 1);
        assertTrue(first.isRetry(), "a missing blob is transient: nothing is published on attempt 1");
        assertNull(first.result());
        assertEquals(InferenceFailure.Kind.MISSING_BLOB, first.retry().kind());
        assertEquals(1.0, meters.get("inference.series.retried").tag("kind", "MISSING_BLOB").counter().count());

        SyntheticSeries.write(blobs, "601", "dom-r", 3, 1); // the same bytes become visible in the store
        SeriesProcessor.Outcome second = p.process(s, 2);
        assertFalse(second.isRetry());
        assertEquals(SegmentationResult.Status.OK, second.result().status(), second.result().error());
        assertNull(second.dlqReason());
    }

    @Test
    void onlyTheLastAttemptPublishesTheErrorOfATransientFailure() throws Exception {
        LocalBlobStore blobs = new LocalBlobStore(dir.resolve("never"), false);
        SeriesReady s = SyntheticSeries.write(new LocalBlobStore(dir.resolve("other"), false), "602", "dom-r", 2, 0);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        SeriesProcessor p = processor(blobs, null, meters, new SeriesProcessor.FailurePolicy(3, 1, Duration.ZERO));
        assertTrue(p.process(s, 1).isRetry());
        assertTrue(p.process(s, 2).isRetry());
        SeriesProcessor.Outcome last = p.process(s, 3);
        assertFalse(last.isRetry());
        assertEquals(SegmentationResult.Status.ERROR, last.result().status());
        assertTrue(last.result().error().startsWith("MISSING_BLOB") && last.result().error().contains("attempt 3; the last one allowed"),
                last.result().error());
        assertEquals("MISSING_BLOB", last.dlqReason());
        assertEquals(2.0, meters.get("inference.series.retried").tag("kind", "MISSING_BLOB").counter().count());
        assertEquals(1.0, meters.get("inference.series.failed").tag("kind", "MISSING_BLOB").counter().count());
    }

    @Test
    void aPermanentFailureIsNotRetried() throws Exception {
        LocalBlobStore blobs = new LocalBlobStore(dir.resolve("garbled"), false);
        SeriesReady s = SyntheticSeries.write(blobs, "603", "dom-r", 2, 0);
        // a slice whose blob holds no DICOM at all
        SeriesReady.Instance i0 = s.instances().get(0);
        SeriesReady.Instance garbage = new SeriesReady.Instance(i0.sopInstanceUid(), i0.sopClassUid(), 1, 0.0, i0.transferSyntaxUid(),
                blobs.put("not a DICOM file".getBytes(), "application/dicom"));
        SeriesReady broken = new SeriesReady(s.schemaVersion(), s.eventId(), 1, s.reason(), s.studyInstanceUid(), s.seriesInstanceUid(),
                s.domainId(), s.fingerprint(), s.header(), List.of(garbage, s.instances().get(1)), s.geometry(), s.firstReceivedAt(),
                s.lastReceivedAt(), s.completedAt());
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        SeriesProcessor.Outcome out = processor(blobs, null, meters, new SeriesProcessor.FailurePolicy(5, 1, Duration.ZERO)).process(broken, 1);
        assertFalse(out.isRetry(), "an undecodable slice does not decode on a later attempt");
        assertEquals(SegmentationResult.Status.ERROR, out.result().status());
        assertEquals("UNDECODABLE", out.dlqReason());
        assertTrue(meters.find("inference.series.retried").counters().isEmpty());
    }

    @Test
    void aPacsThatIsNotUpYetGetsTheSegOnALaterAttempt() throws Exception {
        Path storescp = Prerequisites.program("storescp", "dcmtk");
        LocalBlobStore blobs = new LocalBlobStore(dir.resolve("pacs"), false);
        SeriesReady s = SyntheticSeries.write(blobs, "604", "dom-r", 3, 1);
        int port = BrokerProcess.freePort();
        Path received = Files.createDirectories(dir.resolve("received"));
        PacsSender pacs = new PacsSender(PacsSender.Address.parse("127.0.0.1:" + port + ":PACS"), "INFERENCE", Duration.ofSeconds(10));
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        SeriesProcessor p = processor(blobs, pacs, meters, new SeriesProcessor.FailurePolicy(1, 6, Duration.ofMillis(500)));
        // the PACS comes up about 1.5 s after the first attempt: attempts at 0, 0.5, 1.5, 3.5 s ...
        Process[] server = new Process[1];
        Thread starter = new Thread(() -> {
            try {
                Thread.sleep(1500);
                server[0] = new ProcessBuilder(storescp.toString(), "-aet", "PACS", "-od", received.toString(), Integer.toString(port))
                        .redirectErrorStream(true).redirectOutput(dir.resolve("storescp.log").toFile()).start();
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        starter.start();
        try {
            SeriesProcessor.Outcome out = p.process(s, 1);
            starter.join();
            assertEquals(SegmentationResult.Status.OK, out.result().status(), out.result().error());
            assertNull(out.dlqReason(), "the SEG reached the PACS on a later attempt");
            assertTrue(meters.get("inference.pacs").tag("outcome", "retried").counter().count() >= 1);
            assertEquals(2.0, meters.get("inference.pacs").tag("outcome", "stored").counter().count(), "the SEG, then the SR");
            try (Stream<Path> files = Files.list(received)) {
                assertEquals(2, files.count(), "storescp wrote the SEG and the SR");
            }
        } finally {
            starter.join();
            if (server[0] != null) {
                server[0].destroy();
                server[0].waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void cStoreStatusesTellARefusalFromAnOverload() {
        assertFalse(PacsSender.permanentStatus(0xA700), "out of resources");
        assertFalse(PacsSender.permanentStatus(0xA7FF), "out of resources");
        assertFalse(PacsSender.permanentStatus(0x0110), "processing failure");
        assertTrue(PacsSender.permanentStatus(0xA900), "data set does not match SOP class");
        assertTrue(PacsSender.permanentStatus(0xC000), "cannot understand");
        assertTrue(PacsSender.permanentStatus(0x0122), "SOP class not supported");
    }
}
