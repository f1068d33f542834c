package org.imagingpipeline.events;

import java.time.Instant;

/**
 * Value of {@link Topics#EHR_DELIVERY_DLQ}: a segmentation result the FHIR bridge could not deliver and will not
 * retry. Key: SeriesInstanceUID. An operator fixes the cause and re-publishes {@code result} to
 * {@link Topics#SEGMENTATION_RESULTS}; delivery is idempotent, so a re-published result never duplicates.
 *
 * @param schemaVersion      {@link #SCHEMA_VERSION}
 * @param reason             why it was dead-lettered
 * @param detail             short human-readable text (never patient names or birth dates)
 * @param httpStatus         the EHR's HTTP status for {@link Reason#EHR_REJECTED}, else null
 * @param operationOutcome   the FHIR OperationOutcome (JSON text): the validator's for
 *                           {@link Reason#VALIDATION_FAILED}, the EHR's for {@link Reason#EHR_REJECTED}; may be null
 * @param bundle             the FHIR transaction Bundle (JSON text) that was or would have been sent; may be null
 * @param result             the result event as consumed; null when it could not be read ({@code rawValue} then)
 * @param rawValue           the record value as text when it could not be parsed, else null
 * @param source             where the record came from
 * @param attempts           delivery attempts made
 * @param failedAt           when it was dead-lettered
 */
public record DeliveryFailure(int schemaVersion, Reason reason, String detail, Integer httpStatus,
                             String operationOutcome, String bundle, SegmentationResult result, String rawValue,
                             SourceRecord source, int attempts, Instant failedAt) {

    public static final int SCHEMA_VERSION = 1;

    public enum Reason {
        /** the record value was not a readable SegmentationResult */
        UNREADABLE_EVENT,
        /** the mapped Bundle had validation errors; it was never sent */
        VALIDATION_FAILED,
        /** the EHR answered a permanent 4xx (not 429) */
        EHR_REJECTED,
        /** the result could not be mapped at all (e.g. a required field missing) */
        MAPPING_FAILED
    }

    /** Topic, partition and offset of the consumed record. */
    public record SourceRecord(String topic, int partition, long offset) {
    }
}
