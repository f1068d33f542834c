package org.imagingpipeline.inference;

/**
 * Why a series could not be segmented. Carried by the ERROR result ({@code error} = "KIND: detail") and its DLQ record.
 */
public final class InferenceFailure extends Exception {

    /** The failure kinds; each is a label value of the {@code inference.series.failed} metric. */
    public enum Kind {
        /** a blob named by the series is not in the blob store */
        MISSING_BLOB,
        /** a slice is not DICOM, its pixel data cannot be decoded (e.g. an unsupported transfer syntax), or the
         *  slices disagree on their size */
        UNDECODABLE,
        /** an instance's pixel geometry is beyond inference.pixels.*, overflows, or disagrees with its pixel data:
         *  refused before anything of its size was allocated */
        PIXEL_LIMITS,
        /** no model serves the series' domain and no default model is registered */
        NO_MODEL,
        /** ONNX Runtime failed while running the model */
        MODEL_ERROR,
        /** the SEG could not be written to the blob store */
        OUTPUT_ERROR,
        /** a defect: an unexpected exception while segmenting */
        INTERNAL_ERROR
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
