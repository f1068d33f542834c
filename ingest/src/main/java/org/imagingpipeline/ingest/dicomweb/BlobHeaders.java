package org.imagingpipeline.ingest.dicomweb;

import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomException;
import com.pixelmed.dicom.DicomInputStream;
import com.pixelmed.dicom.TagFromName;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.imagingpipeline.blob.BlobStore;

/** Reads stored Part-10 files with PixelMed: the header only (stopping before the pixel data), or the whole file. */
final class BlobHeaders {
    private BlobHeaders() {
    }

    /** Meta information and dataset up to, not including, PixelData (7FE0,0010). */
    static AttributeList header(BlobStore blobs, String sha256) throws IOException, DicomException {
        return read(blobs, sha256, true);
    }

    /** The whole file, pixel data included (callers bound the size first). */
    static AttributeList whole(BlobStore blobs, String sha256) throws IOException, DicomException {
        return read(blobs, sha256, false);
    }

    private static AttributeList read(BlobStore blobs, String sha256, boolean headerOnly) throws IOException, DicomException {
        try (InputStream in = new BufferedInputStream(blobs.open(sha256), 64 * 1024)) {
            AttributeList l = new AttributeList();
            DicomInputStream din = new DicomInputStream(in);
            if (headerOnly) l.read(din, TagFromName.PixelData);
            else l.read(din);
            return l;
        }
    }
}
