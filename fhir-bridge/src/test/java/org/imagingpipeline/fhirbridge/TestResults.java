package org.imagingpipeline.fhirbridge;

import java.time.Instant;
import java.util.List;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.SegmentationResult;

/** Hand-made result events, as inference will publish them (inference is not built yet). */
final class TestResults {
    private TestResults() {
    }

    static final String STUDY = "2.25.118079387165472137271245131296826946617";

    /** Each patient's own study (a StudyInstanceUID belongs to one patient, as the bridge checks). */
    static String study(String patientId) {
        return STUDY + "." + Integer.toUnsignedString(patientId.hashCode());
    }
    static final String SHA = "3f9a1c0b7d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6";

    /** A UID of the SR's content (tracking UID, Observation UIDs): one per series, model version and item. */
    static String contentUid(String seriesUid, String modelVersion, int item) {
        return seriesUid + ".7." + modelVersion.replaceAll("[^0-9]", "") + "." + item;
    }

    static SegmentationResult ok(String seriesUid, String modelVersion, String patientId) {
        return ok(seriesUid, modelVersion, patientId, study(patientId));
    }

    static SegmentationResult ok(String seriesUid, String modelVersion, String patientId, String studyUid) {
        return new SegmentationResult(SegmentationResult.SCHEMA_VERSION,
                SegmentationResult.eventIdFor(seriesUid, modelVersion), SegmentationResult.Status.OK, null,
                studyUid, seriesUid, List.of(seriesUid + ".1", seriesUid + ".2"), patientId, "SITE_A", "ACC-0042", "MR", 22,
                "20261120", "site-a-siemens-1.5T",
                new SegmentationResult.Model("lgg-flair-unet", modelVersion, SHA),
                new SegmentationResult.Lesion(13214, 11.894, "PixelSpacing 0.9375x0.9375 mm and "
                        + "SpacingBetweenSlices 1.0 mm from the header (assumed 1 mm: header lacks it)", 9, 0.8712,
                        0.1034),
                new SegmentationResult.Seg(seriesUid + ".9.1", seriesUid + ".9",
                        new BlobRef("a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
                                "file:///var/pipeline/blobs/a1/b2/a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
                                184320, "application/dicom")),
                new SegmentationResult.Sr(seriesUid + ".8.1", seriesUid + ".8",
                        new BlobRef("b1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
                                "file:///var/pipeline/blobs/b1/b2/b1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
                                12288, "application/dicom"),
                        new SegmentationResult.Content("Lesion", contentUid(seriesUid, modelVersion, 1),
                                contentUid(seriesUid, modelVersion, 2), contentUid(seriesUid, modelVersion, 3),
                                contentUid(seriesUid, modelVersion, 4), contentUid(seriesUid, modelVersion, 5))),
                new SegmentationResult.Timings(Instant.parse("2026-11-20T09:14:03Z"), 120, 840, 95),
                Instant.parse("2026-11-20T09:14:05.250Z"));
    }

    static SegmentationResult error(String seriesUid, String modelVersion, String patientId) {
        return new SegmentationResult(SegmentationResult.SCHEMA_VERSION,
                SegmentationResult.eventIdFor(seriesUid, modelVersion), SegmentationResult.Status.ERROR,
                "series has 3 slices, need at least 8", study(patientId), seriesUid, null, patientId, null, null, "MR", 3,
                null, "site-b", new SegmentationResult.Model("lgg-flair-unet", modelVersion, SHA), null, null,
                null, null, Instant.parse("2026-11-20T10:00:00Z"));
    }

    static String series(int n) {
        return "2.25.3301274091836412093847561029384756" + n;
    }
}
