package org.imagingpipeline.ingest;

/**
 * Why an instance was not accepted. Each has a metrics tag ({@code ingest_instances_rejected_total{reason}}),
 * a DIMSE status (PS3.4 B.2.3 / PS3.7 C) and an HTTP status for STOW-RS.
 */
public enum RejectReason {
    MALFORMED("malformed", 0xC000, 400, true),
    MISSING_UID("missing_uid", 0xC000, 400, true),
    INVALID_UID("invalid_uid", 0xC000, 400, true),
    UID_MISMATCH("uid_mismatch", 0xA900, 409, true),
    UNSUPPORTED_SOP_CLASS("unsupported_sop_class", 0x0122, 409, true),
    UNSUPPORTED_TRANSFER_SYNTAX("unsupported_transfer_syntax", 0xC000, 415, true),
    OVERSIZED("oversized", 0xA700, 413, true),
    STUDY_MISMATCH("study_mismatch", 0xA900, 409, true),
    CALLING_AE_NOT_ALLOWED("calling_ae_not_allowed", -1, 403, false),
    CALLED_AE_UNKNOWN("called_ae_unknown", -1, 403, false),
    ASSOCIATION_LIMIT("association_limit", -1, 503, false),
    /** A connection from an address outside ingest.dicom.allowed-sources. */
    SOURCE_NOT_ALLOWED("source_not_allowed", -1, 403, false),
    /** A DICOM TLS handshake that failed: no or an untrusted client certificate, no common protocol or cipher suite. */
    TLS_HANDSHAKE("tls_handshake", -1, 403, false),
    KAFKA_UNAVAILABLE("kafka_unavailable", 0xA700, 503, false),
    STORAGE_UNAVAILABLE("storage_unavailable", 0xA700, 503, false);

    public final String tag;
    public final int dimseStatus;
    public final int httpStatus;
    /** True when the bytes are the problem: they are quarantined. False for our own unavailability. */
    public final boolean quarantine;

    RejectReason(String tag, int dimseStatus, int httpStatus, boolean quarantine) {
        this.tag = tag;
        this.dimseStatus = dimseStatus;
        this.httpStatus = httpStatus;
        this.quarantine = quarantine;
    }

    /** True when the sender should retry later (we, not the instance, failed). */
    public boolean transientFailure() {
        return this == KAFKA_UNAVAILABLE || this == STORAGE_UNAVAILABLE || this == ASSOCIATION_LIMIT;
    }
}
