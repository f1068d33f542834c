package org.imagingpipeline.streams;

import java.time.Instant;
import java.util.Map;

/**
 * One series' image statistics on their way from {@link SeriesFeatureExtractor} to the {@link DriftDetector}
 * (internal repartition topic, all on one partition so the detector sees every domain). No patient identifiers:
 * only whether the series belongs to a reference (training) patient, and a hash of institution and PatientID.
 *
 * @param values        {@link ImageStatistics#DETECTOR_NAMES} order; null when no slice could be decoded
 * @param slicesPicked  slices chosen for decoding
 * @param slicesDecoded of those, how many decoded
 * @param undecodable   transfer syntax UID -> slices that could not be decoded (with the first reason in {@code note})
 * @param reference     true when institution and PatientID are on the reference (training) list
 * @param patientKey    first 16 hex digits of SHA-256(institution|PatientID), or null without a PatientID
 */
public record SeriesFeatures(String seriesInstanceUid, int revision, String domainId, Map<String, String> fingerprint, double[] values,
                             int slicesPicked, int slicesDecoded, Map<String, Integer> undecodable, String note, boolean reference,
                             String patientKey, Instant completedAt, long extractedAtMs) implements DetectorInput {
    public boolean measured() {
        return values != null;
    }
}
