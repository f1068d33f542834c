package org.imagingpipeline.events;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Value of {@link Topics#SERIES_READY}: a complete series, its instances in slice order. Key: SeriesInstanceUID.
 * A series that receives instances after it was emitted is emitted again with the next {@code revision}
 * (reason {@code LATE_UPDATE}) and the full, re-ordered instance list; consumers keep the highest revision.
 *
 * @param schemaVersion {@link #SCHEMA_VERSION}
 * @param eventId       SeriesInstanceUID + "#" + revision: stable across redeliveries of the same revision
 * @param revision      1 for the first emission, +1 for each update
 * @param reason        why it was emitted now
 * @param domainId      the series' acquisition domain (header fingerprint id, "dom-" + 12 hex digits)
 * @param fingerprint   the header fingerprint's fields (manufacturer, model, institution, station, protocol, bins, ...)
 * @param header        header fields of the first instance (series-level values: scanner, protocol, patient id)
 * @param instances     the instances, ordered along the slice normal (then InstanceNumber, then UID)
 * @param geometry      what the instances share, and the slice spacing measured from their positions
 */
public record SeriesReady(int schemaVersion, String eventId, int revision, Reason reason, String studyInstanceUid,
                          String seriesInstanceUid, String domainId, java.util.Map<String, String> fingerprint, InstanceHeader header,
                          List<Instance> instances, Geometry geometry, Instant firstReceivedAt, Instant lastReceivedAt,
                          Instant completedAt) {

    public static final int SCHEMA_VERSION = 1;
    /**
     * Kafka header of a SeriesReady the retrain service sent again after a promotion (its value names the promotion):
     * the same series, not a new acquisition. Inference segments it like any; the drift detector and the retrain
     * service's catalog skip it.
     */
    public static final String REPLAY_HEADER = "pipeline.replay";

    public SeriesReady {
        Objects.requireNonNull(seriesInstanceUid, "seriesInstanceUid");
        instances = List.copyOf(instances);
    }

    /** Why a series was emitted. */
    public enum Reason {
        /** as many instances arrived as ImagesInAcquisition announced */
        EXPECTED_COUNT,
        /** no instance arrived for the configured inactivity timeout */
        INACTIVITY,
        /**
         * the sender said it is done with the series ({@link InstanceReceived#SENDER_DONE_HEADER}: its association was
         * released, its STOW-RS request ended) and no instance followed within the assembly's grace
         */
        SENDER_DONE,
        /** instances arrived after an earlier emission; this revision replaces it */
        LATE_UPDATE
    }

    /**
     * One instance of the series.
     *
     * @param position distance along the slice normal (mm), null when the geometry is not known
     */
    public record Instance(String sopInstanceUid, String sopClassUid, Integer instanceNumber, Double position,
                           String transferSyntaxUid, BlobRef blob) {
    }

    /**
     * Geometry of the series.
     *
     * @param sliceSpacing median distance between consecutive positions (mm), null with fewer than two
     * @param consistent   false when instances disagree on rows/columns/spacing/orientation
     */
    public record Geometry(Integer rows, Integer columns, double[] pixelSpacing, Double sliceThickness, Double sliceSpacing,
                           double[] imageOrientationPatient, String frameOfReferenceUid, boolean consistent) {
    }

    public static String eventIdFor(String seriesInstanceUid, int revision) {
        return seriesInstanceUid + "#" + revision;
    }
}
