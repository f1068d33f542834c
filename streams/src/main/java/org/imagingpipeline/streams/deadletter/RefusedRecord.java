package org.imagingpipeline.streams.deadletter;

/**
 * A record a processor refuses on purpose (a bad record, not a defect): {@link DeadLetterProcessingHandler} dead-letters
 * it with {@link #reason()} ({@code KIND: detail}) and the stream goes on with the next record. The detail must name
 * attributes and limits, never a patient's values.
 */
public final class RefusedRecord extends RuntimeException {
    /** Why; each is the first word of the {@code dlq.reason} header. */
    public enum Kind {
        /** an instance's pixel geometry is beyond the configured caps, overflows, or disagrees with its pixel data */
        PIXEL_LIMITS,
        /** decoding one record's pixels ran out of heap (the allocation failed; the record is refused, loudly) */
        OUT_OF_MEMORY,
        /** a domain command (imaging.domain.commands) that was read but cannot be applied: no domain id, a key other than
         *  its domain id, an unknown schema version, ... */
        BAD_COMMAND
    }

    private final Kind kind;

    public RefusedRecord(Kind kind, String detail, Throwable cause) {
        super(detail, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** {@code KIND: detail} */
    public String reason() {
        return kind + ": " + getMessage();
    }
}
