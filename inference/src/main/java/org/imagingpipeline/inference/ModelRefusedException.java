package org.imagingpipeline.inference;

/** A model file that is not served: missing, not matching its registered SHA-256, or not loadable by ONNX Runtime. */
public final class ModelRefusedException extends Exception {
    private final String reason;

    public ModelRefusedException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    /** missing | sha256_mismatch | unloadable (the {@code reason} label of {@code inference.model.refused}). */
    public String reason() {
        return reason;
    }
}
