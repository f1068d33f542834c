package org.imagingpipeline.retrain;

/** Bad input data or arguments: the message is meant for the person at the command line. */
public class DataException extends RuntimeException {
    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
