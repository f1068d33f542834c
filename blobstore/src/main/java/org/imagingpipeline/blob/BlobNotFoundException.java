package org.imagingpipeline.blob;

import java.io.FileNotFoundException;

/** The store has no bytes under the requested SHA-256. */
public class BlobNotFoundException extends FileNotFoundException {
    public BlobNotFoundException(String sha256) {
        super("no blob with sha256 " + sha256);
    }
}
