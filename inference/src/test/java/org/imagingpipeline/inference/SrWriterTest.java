package org.imagingpipeline.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.StructuredReport;
import com.pixelmed.dicom.TagFromName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.ReplayPredecessor;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TID 1500 measurement report beside the SEG: dciodvfy (IOD and template checks) and its content. */
class SrWriterTest {
    @TempDir
    Path dir;

    @Test
    void measurementReportPassesDciodvfyAndNamesTheSegAndTheMeasures() throws Exception {
        Path dciodvfy = Prerequisites.program("dciodvfy", "dicom3tools");
        LocalBlobStore blobs = new LocalBlobStore(dir.resolve("blobs"), false);
        SeriesReady s = SyntheticSeries.write(blobs, "301", "dom-a", 3, 1);
        SliceStack stack = new SeriesLoader(blobs).load(s);
        SegmentationResult.Model model = new SegmentationResult.Model("lgg-flair-unet", "7", "ab".repeat(32));
        SegmentationResult.Lesion lesion = new SegmentationResult.Lesion(256, 1.2345678, "assumed 1x1x1 mm", 1, 0.93, 0.0123456);
        SegWriter.Uids seg = SegWriter.Uids.of(s.seriesInstanceUid(), "7");
        SrWriter.Uids uids = SrWriter.Uids.of(s.seriesInstanceUid(), "7");
        byte[] sr = new SrWriter().write(stack, lesion, model, seg, uids, Instant.parse("2026-12-07T10:00:00Z"));
        Path file = dir.resolve("sr.dcm");
        Files.write(file, sr);

        String verify = SegmentationPipelineTest.run(dciodvfy.toString(), file.toString());
        List<String> errors = verify.lines().filter(l -> l.startsWith("Error")).toList();
        assertTrue(errors.isEmpty(), "dciodvfy errors:\n" + verify);
        System.out.println(verify);

        AttributeList l = new AttributeList();
        l.read(file.toFile());
        assertEquals("1.2.840.10008.5.1.4.1.1.88.33", com.pixelmed.dicom.Attribute.getSingleStringValueOrNull(l, com.pixelmed.dicom.TagFromName.SOPClassUID));
        assertEquals(uids.sopInstanceUid(), com.pixelmed.dicom.Attribute.getSingleStringValueOrNull(l, com.pixelmed.dicom.TagFromName.SOPInstanceUID));
        assertEquals(s.studyInstanceUid(), com.pixelmed.dicom.Attribute.getSingleStringValueOrNull(l, com.pixelmed.dicom.TagFromName.StudyInstanceUID));
        String tree = new StructuredReport(l).toString();
        System.out.println(tree);
        assertTrue(tree.contains("Imaging Measurement Report"), tree);
        assertTrue(tree.contains("Referenced Segment") && tree.contains(seg.sopInstanceUid()), tree);
        assertTrue(tree.contains("Volume = 1.235 milliliter"), "the volume, rounded, in mL:\n" + tree);
        assertTrue(tree.contains("Algorithm Version") && tree.contains("lgg-flair-unet"), tree);
        // the group and its measurements carry the Observation UIDs the result event gives the FHIR mapping
        SegmentationResult.Content c = uids.content();
        assertEquals(List.of(c.measurementGroupUid(), c.volumeUid(), c.slicesWithLesionUid(), c.meanPredictiveEntropyUid()),
                observationUids(l), tree);
        assertEquals(4, java.util.Set.copyOf(observationUids(l)).size(), "distinct Observation UIDs");
        assertTrue(tree.contains(c.trackingUid()) && tree.contains("Finding category"), tree);
        // the same series and model give the same SR UIDs (a redelivery writes the same object)
        assertEquals(uids, SrWriter.Uids.of(s.seriesInstanceUid(), "7"));
    }

    /** The Observation UIDs (0040,A171) of the content items, depth first in document order. */
    private static List<String> observationUids(AttributeList l) {
        List<String> out = new java.util.ArrayList<>();
        collectObservationUids(l, out);
        return out;
    }

    private static void collectObservationUids(AttributeList l, List<String> out) {
        String uid = Attribute.getSingleStringValueOrNull(l, TagFromName.ObservationUID);
        if (uid != null) out.add(uid);
        if (l.get(TagFromName.ContentSequence) instanceof SequenceAttribute seq) {
            for (int i = 0; i < seq.getNumberOfItems(); i++) collectObservationUids(seq.getItem(i).getAttributeList(), out);
        }
    }

    @Test
    void aRevisedReportNamesTheEarlierSrAsItsPredecessorAndStillPassesDciodvfy() throws Exception {
        Path dciodvfy = Prerequisites.program("dciodvfy", "dicom3tools");
        LocalBlobStore blobs = new LocalBlobStore(dir.resolve("blobs"), false);
        SeriesReady s = SyntheticSeries.write(blobs, "302", "dom-a", 3, 1);
        SliceStack stack = new SeriesLoader(blobs).load(s);
        SegmentationResult.Model model = new SegmentationResult.Model("lgg-flair-unet", "8", "cd".repeat(32));
        SegmentationResult.Lesion lesion = new SegmentationResult.Lesion(300, 1.5, "assumed 1x1x1 mm", 1, 0.9, 0.01);
        SrWriter.Uids earlier = SrWriter.Uids.of(s.seriesInstanceUid(), "7");
        ReplayPredecessor predecessor = new ReplayPredecessor(s.studyInstanceUid(), earlier.seriesInstanceUid(),
                earlier.sopInstanceUid(), "7");
        SrWriter.Uids uids = SrWriter.Uids.of(s.seriesInstanceUid(), "8");
        byte[] sr = new SrWriter().write(stack, lesion, model, SegWriter.Uids.of(s.seriesInstanceUid(), "8"), uids,
                predecessor, Instant.parse("2026-12-07T11:00:00Z"));
        Path file = dir.resolve("sr-revised.dcm");
        Files.write(file, sr);

        String verify = SegmentationPipelineTest.run(dciodvfy.toString(), file.toString());
        assertTrue(verify.lines().noneMatch(l -> l.startsWith("Error")), "dciodvfy errors:\n" + verify);

        AttributeList l = new AttributeList();
        l.read(file.toFile());
        SequenceAttribute pred = (SequenceAttribute) l.get(TagFromName.PredecessorDocumentsSequence);
        assertEquals(1, pred.getNumberOfItems());
        AttributeList study = pred.getItem(0).getAttributeList();
        assertEquals(s.studyInstanceUid(), Attribute.getSingleStringValueOrNull(study, TagFromName.StudyInstanceUID));
        AttributeList series = ((SequenceAttribute) study.get(TagFromName.ReferencedSeriesSequence)).getItem(0).getAttributeList();
        assertEquals(earlier.seriesInstanceUid(), Attribute.getSingleStringValueOrNull(series, TagFromName.SeriesInstanceUID));
        AttributeList sop = ((SequenceAttribute) series.get(TagFromName.ReferencedSOPSequence)).getItem(0).getAttributeList();
        assertEquals("1.2.840.10008.5.1.4.1.1.88.33", Attribute.getSingleStringValueOrNull(sop, TagFromName.ReferencedSOPClassUID));
        assertEquals(earlier.sopInstanceUid(), Attribute.getSingleStringValueOrNull(sop, TagFromName.ReferencedSOPInstanceUID));
        assertTrue(!uids.sopInstanceUid().equals(earlier.sopInstanceUid()), "a new version's SR is a new instance");

        // without a predecessor the sequence is absent (a first report revises nothing)
        AttributeList first = new AttributeList();
        Path plain = dir.resolve("sr-first.dcm");
        Files.write(plain, new SrWriter().write(stack, lesion, model, SegWriter.Uids.of(s.seriesInstanceUid(), "8"), uids,
                Instant.parse("2026-12-07T11:00:00Z")));
        first.read(plain.toFile());
        assertNull(first.get(TagFromName.PredecessorDocumentsSequence));
    }
}
