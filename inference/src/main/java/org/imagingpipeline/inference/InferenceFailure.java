package org.imagingpipeline.inference;

/**
 * Why a series could not be segmented. Carried by the ERROR result ({@code error} = "KIND: detail") and its DLQ record.
 *
 * <p>Each kind is either <b>transient</b> (the same series may well succeed a little later: a blob not visible yet or
 * not readable for a moment, the execution provider failing or busy, the blob store refusing a write) or
 * <b>permanent</b> (the input itself is the problem, or no model serves it, or a defect). The loop retries a transient
 * failure with backoff up to {@code inference.retry.transient-attempts} before it publishes the ERROR result; a
 * permanent one gets its ERROR result at once (docs/operations.md "Failure policy").
 */
public final class InferenceFailure extends Exception {

    /** The failure kinds; each is a label value of the {@code inference.series.failed} metric. */
    public enum Kind {
        /** a blob named by the series is not in the blob store (shared storage may show it late: transient) */
        MISSING_BLOB(true),
        /** a blob exists but could not be opened or looked up (an I/O error of the blob store: transient) */
        BLOB_UNREADABLE(true),
        /** a slice is not DICOM, its pixel data cannot be decoded (e.g. an unsupported transfer syntax), or the
         *  slices disagree on their size */
        UNDECODABLE(false),
        /** an instance's pixel geometry is beyond inference.pixels.*, overflows, or disagrees with its pixel data:
         *  refused before anything of its size was allocated */
        PIXEL_LIMITS(false),
        /** no model serves the series' domain and no default model is registered */
        NO_MODEL(false),
        /** ONNX Runtime failed while running the model (device out of memory or busy, a driver error: transient) */
        MODEL_ERROR(true),
        /** the SEG could not be written to the blob store (disk full, I/O error: transient) */
        OUTPUT_ERROR(true),
        /** a defect: an unexpected exception while segmenting */
        INTERNAL_ERROR(false);

        private final boolean transientFailure;

        Kind(boolean transientFailure) {
            this.transientFailure = transientFailure;
        }

        /** True when a later attempt at the same series may succeed. */
        public boolean transientFailure() {
            return transientFailure;
        }
    }

    private final Kind kind;

    public InferenceFailure(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public InferenceFailure(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** The text of the result's {@code error} field. */
    public String describe() {
        return kind + ": " + getMessage();
    }
}
