package org.imagingpipeline.events;

import java.time.Instant;
import java.util.Objects;

/**
 * Value of {@link Topics#SEGMENTATION_RESULTS}: the outcome of segmenting one series. Key: SeriesInstanceUID.
 * Produced by inference, consumed by fhir-bridge. Patient names and birth dates are never carried; PatientID and
 * its issuer are, because the EHR needs them to file the report.
 *
 * <p>A result is identified by (SeriesInstanceUID, model version): the same pair always describes the same
 * report, so a consumer may treat a second event with that pair as a redelivery. A result for the same series from
 * a newer model version supersedes the earlier one.
 *
 * @param schemaVersion      {@link #SCHEMA_VERSION}
 * @param eventId            {@link #eventIdFor}(seriesInstanceUid, model.version): stable across redeliveries
 * @param status             OK, or ERROR (then {@code error} says why and the measures may be null)
 * @param error              error text when status is ERROR, else null
 * @param studyInstanceUid   source study
 * @param seriesInstanceUid  source series (the record key)
 * @param sopInstanceUids    the source instances segmented, in slice order (may be null when not tracked)
 * @param patientId          PatientID (0010,0020), may be null
 * @param issuerOfPatientId  IssuerOfPatientID (0010,0021), may be null
 * @param accessionNumber    AccessionNumber (0008,0050), may be null
 * @param modality           Modality of the source series, e.g. MR
 * @param instanceCount      number of source instances in the series
 * @param studyDate          StudyDate (0008,0020) as YYYYMMDD, may be null
 * @param domainId           the acquisition domain the series was routed by (streams' domain id)
 * @param model              the model that produced the result
 * @param lesion             the measures; null when status is ERROR
 * @param seg                the DICOM SEG written for the result; null when none was written
 * @param sr                 the DICOM SR measurement report (TID 1500) written beside the SEG; null when none was
 *                           written (an ERROR result, or a producer older than this field)
 * @param timings            how long the stages took
 * @param completedAt        when inference finished
 */
public record SegmentationResult(int schemaVersion, String eventId, Status status, String error,
                                 String studyInstanceUid, String seriesInstanceUid, java.util.List<String> sopInstanceUids,
                                 String patientId, String issuerOfPatientId, String accessionNumber, String modality,
                                 int instanceCount, String studyDate, String domainId, Model model, Lesion lesion,
                                 Seg seg, Sr sr, Timings timings, Instant completedAt) {

    public static final int SCHEMA_VERSION = 1;

    public SegmentationResult {
        Objects.requireNonNull(studyInstanceUid, "studyInstanceUid");
        Objects.requireNonNull(seriesInstanceUid, "seriesInstanceUid");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(status, "status");
    }

    /** OK: measures present; ERROR: inference failed for the series, {@code error} says why. */
    public enum Status { OK, ERROR }

    /**
     * The model that produced the result.
     *
     * @param name    model name, e.g. lgg-flair-unet
     * @param version model version as the registry names it, e.g. 3 or 2026-11-22.1
     * @param sha256  lower-case hex SHA-256 of the ONNX file
     */
    public record Model(String name, String version, String sha256) {
        public Model {
            Objects.requireNonNull(version, "model.version");
        }
    }

    /**
     * Lesion measures over the whole series.
     *
     * @param volumeVoxels             foreground voxels after post-processing
     * @param volumeMl                 lesion volume in millilitres
     * @param spacingAssumption        how voxel size was obtained, as text, e.g. "PixelSpacing 0.9x0.9 mm,
     *                                 SpacingBetweenSlices 3.3 mm from the header" or "assumed 1x1x1 mm"
     * @param slicesWithLesion         number of slices with at least one foreground voxel
     * @param meanForegroundProbability mean model probability over the foreground voxels (0..1)
     * @param meanPredictiveEntropy    mean per-voxel predictive entropy in nats (the uncertainty measure)
     */
    public record Lesion(long volumeVoxels, double volumeMl, String spacingAssumption, int slicesWithLesion,
                         double meanForegroundProbability, double meanPredictiveEntropy) {
    }

    /**
     * The DICOM SEG instance written for the result.
     *
     * @param sopInstanceUid    SOP Instance UID of the SEG
     * @param seriesInstanceUid Series Instance UID of the SEG series
     * @param blob              the Part-10 SEG file in the blob store
     */
    public record Seg(String sopInstanceUid, String seriesInstanceUid, BlobRef blob) {
    }

    /**
     * The DICOM SR (Comprehensive SR, TID 1500 "Measurement Report") with the lesion's measurements, referencing the SEG.
     *
     * @param sopInstanceUid    SOP Instance UID of the SR
     * @param seriesInstanceUid Series Instance UID of the SR series
     * @param blob              the Part-10 SR file in the blob store
     * @param content           the UIDs of the SR's measurement content items, so that a consumer can name them (the
     *                          FHIR Observations carry them as observation-uid identifiers, per the HL7 DICOM SR to FHIR
     *                          mapping); null from a producer older than this field
     */
    public record Sr(String sopInstanceUid, String seriesInstanceUid, BlobRef blob, Content content) {
    }

    /**
     * What the SR's TID 1411 measurement group says about the lesion and the Observation UIDs (0040,A171) of its
     * content items.
     *
     * @param trackingIdentifier         Tracking Identifier (DCM 112039) of the group, e.g. "Lesion"
     * @param trackingUid                Tracking Unique Identifier (DCM 112040) of the group
     * @param measurementGroupUid        Observation UID of the measurement group container (DCM 125007)
     * @param volumeUid                  Observation UID of the lesion volume (SCT 118565006)
     * @param slicesWithLesionUid        Observation UID of the slices-with-lesion measurement
     * @param meanPredictiveEntropyUid   Observation UID of the mean predictive entropy measurement
     */
    public record Content(String trackingIdentifier, String trackingUid, String measurementGroupUid, String volumeUid,
                          String slicesWithLesionUid, String meanPredictiveEntropyUid) {
    }

    /**
     * Stage durations and the moment the source series was complete (for end-to-end latency).
     *
     * @param seriesCompleteAt when streams declared the series complete, may be null
     * @param loadMs           reading pixels from the blob store
     * @param inferenceMs      model run time
     * @param postprocessMs    thresholding, measures, SEG writing
     */
    public record Timings(Instant seriesCompleteAt, long loadMs, long inferenceMs, long postprocessMs) {
    }

    /** The id a result always has: sha256(seriesInstanceUid + "|" + modelVersion), first 16 bytes, hex. */
    public static String eventIdFor(String seriesInstanceUid, String modelVersion) {
        return InstanceReceived.eventIdFor(seriesInstanceUid, modelVersion);
    }
}
