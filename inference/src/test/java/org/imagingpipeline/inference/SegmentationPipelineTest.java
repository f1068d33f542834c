package org.imagingpipeline.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SeriesReady -> result and SEG without Kafka: tiny models with known masks, the SEG through dciodvfy and dcmdump. */
class SegmentationPipelineTest {
    @TempDir
    static Path dir;
    static LocalBlobStore blobs;
    static ModelSessions sessions;
    static LoadedModel thresholdAt150;

    @BeforeAll
    static void setUp() throws Exception {
        blobs = new LocalBlobStore(dir.resolve("blobs"), false);
        sessions = new ModelSessions("cpu", 1, 128, 0);
        Path m = dir.resolve("a.onnx");
        String sha = TinyModels.write(m, 1f, -150f, 16);
        thresholdAt150 = sessions.load(m.toUri().toString(), sha);
    }

    @AfterAll
    static void tearDown() {
        sessions.close();
    }

    private SeriesProcessor processor(Optional<ModelRoute> route, int minComponent) {
        return new SeriesProcessor(new SeriesLoader(blobs), d -> route,
                new SeriesSegmenter(3, new ComponentCleanup(minComponent)), blobs, null,
                new InferenceMetrics(new SimpleMeterRegistry()));
    }

    @Test
    void rescaledSquareIsFoundAndMeasured() throws Exception {
        SeriesReady s = SyntheticSeries.write(blobs, "101", "dom-a", 4, 1, 2);
        SeriesProcessor.Outcome out = processor(Optional.of(new ModelRoute("default", "v1", "tiny", "x", thresholdAt150)), 0)
                .process(s);
        SegmentationResult r = out.result();
        assertEquals(SegmentationResult.Status.OK, r.status(), r.error());
        assertNull(out.dlqReason());
        // stored 100 x slope 2 = 200 > 150: the square is foreground only because the rescale was applied
        assertEquals(2L * 16 * 16, r.lesion().volumeVoxels());
        assertEquals(2, r.lesion().slicesWithLesion());
        assertEquals(512 * 0.5 * 0.5 * 2.0 / 1000, r.lesion().volumeMl(), 1e-9);
        assertTrue(r.lesion().spacingAssumption().contains("PixelSpacing 0.5x0.5 mm"), r.lesion().spacingAssumption());
        // The 8x8 square at model resolution comes back bilinearly: per axis the weights are 0.25 (outside),
        // 0.75, 1 x 14, 0.75, 0.25 (outside); the probability is their product.
        double[] v = new double[32];
        v[7] = 0.25;
        v[8] = 0.75;
        for (int i = 9; i <= 22; i++) v[i] = 1;
        v[23] = 0.75;
        v[24] = 0.25;
        double fgSum = 0;
        double entropy = 0;
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                double p = v[x] * v[y];
                if (p >= 0.5) fgSum += p;
                entropy += SeriesSegmenter.entropy(p);
            }
        }
        assertEquals(fgSum / 256, r.lesion().meanForegroundProbability(), 1e-4);
        assertEquals(0.96875 * 0.96875, r.lesion().meanForegroundProbability(), 1e-4);
        assertEquals(2 * entropy / (4 * 1024), r.lesion().meanPredictiveEntropy(), 1e-4);
        assertEquals("v1", r.model().version());
        assertEquals(thresholdAt150.sha256(), r.model().sha256());
        assertEquals(SegmentationResult.eventIdFor(s.seriesInstanceUid(), "v1"), r.eventId());
        assertEquals(s.completedAt(), r.timings().seriesCompleteAt());
        assertEquals(4, r.instanceCount());
        assertEquals("PAT-101", r.patientId());
        assertNotNull(r.seg());
        assertTrue(Files.exists(blobs.pathOf(r.seg().blob().sha256())));
        assertNotNull(r.sr(), "the measurement report beside the SEG");
        assertTrue(Files.exists(blobs.pathOf(r.sr().blob().sha256())));
    }

    @Test
    void segPassesDciodvfyAndReferencesTheSource() throws Exception {
        Path dciodvfy = Prerequisites.program("dciodvfy", "dicom3tools");
        Path dcmdump = Prerequisites.program("dcmdump", "dcmtk");
        SeriesReady s = SyntheticSeries.write(blobs, "102", "dom-a", 3, 1);
        SeriesProcessor.Outcome out = processor(Optional.of(new ModelRoute("default", "v1", "tiny", "x", thresholdAt150)), 0)
                .process(s);
        assertEquals(SegmentationResult.Status.OK, out.result().status(), out.result().error());
        Path seg = dir.resolve("seg-102.dcm");
        Files.write(seg, out.segBytes());
        String verify = run(dciodvfy.toString(), seg.toString());
        List<String> problems = verify.lines().filter(l -> l.startsWith("Error") || l.startsWith("Warning")).toList();
        assertTrue(problems.isEmpty(), "dciodvfy errors or warnings:\n" + verify);
        String dump = run(dcmdump.toString(), "-Un", "+P", "ReferencedSeriesSequence", "+P", "ReferencedSOPInstanceUID",
                "+P", "FrameOfReferenceUID", "+P", "SOPClassUID", "+P", "SegmentationType", "+P", "SegmentAlgorithmName",
                "+P", "AlgorithmVersion", seg.toString());
        assertTrue(dump.contains("1.2.840.10008.5.1.4.1.1.66.4"), dump);
        assertTrue(dump.contains("BINARY"), dump);
        assertTrue(dump.contains(s.geometry().frameOfReferenceUid()), dump);
        for (SeriesReady.Instance i : s.instances()) assertTrue(dump.contains(i.sopInstanceUid()), dump);
        assertTrue(dump.contains("v1"), dump);
        // 3 frames of 32x32 bits; only slice 1 has the 16x16 square
        com.pixelmed.dicom.AttributeList l = new com.pixelmed.dicom.AttributeList();
        l.read(seg.toFile());
        byte[] pixels = l.getPixelData().getByteValues();
        assertEquals((3 * 1024 / 8), pixels.length);
        assertEquals(16 * 16, countBits(pixels));
        assertEquals(0, countBits(java.util.Arrays.copyOfRange(pixels, 0, 128)));
    }

    private static int countBits(byte[] b) {
        int n = 0;
        for (byte x : b) n += Integer.bitCount(x & 0xff);
        return n;
    }

    @Test
    void smallComponentsAreRemovedWhenConfigured() throws Exception {
        SeriesReady s = SyntheticSeries.write(blobs, "103", "dom-a", 2, 0);
        Optional<ModelRoute> route = Optional.of(new ModelRoute("default", "v1", "tiny", "x", thresholdAt150));
        assertEquals(256, processor(route, 0).process(s).result().lesion().volumeVoxels());
        assertEquals(256, processor(route, 256).process(s).result().lesion().volumeVoxels());
        assertEquals(0, processor(route, 257).process(s).result().lesion().volumeVoxels());
    }

    @Test
    void missingBlobAndMissingModelGiveErrorResults() throws Exception {
        SeriesReady s = SyntheticSeries.write(blobs, "104", "dom-a", 2, 0);
        SeriesReady.Instance first = s.instances().get(0);
        SeriesReady.Instance gone = new SeriesReady.Instance(first.sopInstanceUid(), first.sopClassUid(), 1, 0.0,
                first.transferSyntaxUid(), new org.imagingpipeline.events.BlobRef("0".repeat(64), "file:///nowhere", 10, null));
        SeriesReady broken = new SeriesReady(s.schemaVersion(), s.eventId(), 1, s.reason(), s.studyInstanceUid(),
                s.seriesInstanceUid(), s.domainId(), s.fingerprint(), s.header(), List.of(gone, s.instances().get(1)),
                s.geometry(), s.firstReceivedAt(), s.lastReceivedAt(), s.completedAt());
        SeriesProcessor.Outcome out = processor(Optional.of(new ModelRoute("default", "v1", "tiny", "x", thresholdAt150)), 0)
                .process(broken);
        assertEquals(SegmentationResult.Status.ERROR, out.result().status());
        assertTrue(out.result().error().startsWith("MISSING_BLOB"), out.result().error());
        assertEquals("MISSING_BLOB", out.dlqReason());
        assertNull(out.result().lesion());

        SeriesProcessor.Outcome none = processor(Optional.empty(), 0).process(s);
        assertEquals(SegmentationResult.Status.ERROR, none.result().status());
        assertEquals("NO_MODEL", none.dlqReason());
        assertEquals("none", none.result().model().version());
    }

    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(cmd))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return out;
    }
}
