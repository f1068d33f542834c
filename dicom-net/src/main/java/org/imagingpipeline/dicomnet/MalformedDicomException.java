package org.imagingpipeline.dicomnet;

/** Bytes that are not a well-formed DICOM object (truncated, not DICOM, broken structure). */
public class MalformedDicomException extends Exception {
    public MalformedDicomException(String message) {
        super(message);
    }

    public MalformedDicomException(String message, Throwable cause) {
        super(message, cause);
    }
}
