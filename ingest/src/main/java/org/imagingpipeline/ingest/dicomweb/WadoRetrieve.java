package org.imagingpipeline.ingest.dicomweb;

import com.fasterxml.jackson.core.JsonGenerator;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.DicomException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.imagingpipeline.blob.BlobNotFoundException;
import org.imagingpipeline.blob.BlobStore;
import org.imagingpipeline.events.EventJson;
import org.jboss.logging.Logger;

/**
 * WADO-RS (PS3.18 10.4) over the index and the blob store: instances as {@code multipart/related;
 * type="application/dicom"} (the stored Part-10 bytes, streamed part by part, in the transfer syntax they were stored
 * in), their metadata as DICOM JSON, and a rendered PNG of a single greyscale frame. Unknown UIDs and blobs missing
 * from the store are 404 (the latter with a WARN); an Accept this service cannot satisfy (a transcoding, a media type
 * it does not produce) is 406.
 */
public final class WadoRetrieve {
    private static final Logger LOG = Logger.getLogger(WadoRetrieve.class);
    static final String DICOM_JSON = "application/dicom+json";
    /** Largest stored instance the rendered resource reads into memory. */
    static final long MAX_RENDERED_BYTES = 64L << 20;

    private final BlobStore blobs;

    public WadoRetrieve(BlobStore blobs) {
        this.blobs = blobs;
    }

    /** The instances' Part-10 bytes as one multipart/related answer. */
    public Response instances(List<IndexedInstance> instances, String accept, String what) {
        if (instances.isEmpty()) return text(404, what + " is not held by this service");
        AcceptedSyntaxes ok = AcceptedSyntaxes.parse(accept);
        if (!ok.acceptable()) {
            return text(406, "WADO-RS answers multipart/related; type=\"application/dicom\" (Accept was: " + accept + ")");
        }
        for (IndexedInstance i : instances) {
            if (!ok.allows(i.transferSyntaxUid())) {
                return text(406, "instance " + i.sopInstanceUid() + " is stored in transfer syntax " + i.transferSyntaxUid()
                        + " and this service does not transcode; ask with transfer-syntax=* (accepted: " + ok.listed() + ")");
            }
        }
        Response missing = missingBlob(instances);
        if (missing != null) return missing;
        String boundary = "wado-" + UUID.randomUUID();
        StreamingOutput body = out -> {
            for (IndexedInstance i : instances) {
                String ts = i.transferSyntaxUid() == null ? "" : "; transfer-syntax=" + i.transferSyntaxUid();
                out.write(("--" + boundary + "\r\nContent-Type: application/dicom" + ts + "\r\nContent-Length: " + i.size()
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                try (InputStream in = blobs.open(i.sha256())) {
                    in.transferTo(out);
                } catch (BlobNotFoundException e) {
                    // Gone after the check: the answer is cut short (the client sees an incomplete body, not a wrong one).
                    LOG.warnf("blob %s of instance %s vanished while it was sent", i.sha256(), i.sopInstanceUid());
                    throw e;
                }
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        };
        return Response.ok(body).header("Content-Type", "multipart/related; type=\"application/dicom\"; boundary=" + boundary).build();
    }

    /** Each instance's header as a DICOM JSON dataset (no PixelData, no patient names or birth dates), in one array. */
    public Response metadata(List<IndexedInstance> instances, String what) {
        if (instances.isEmpty()) return text(404, what + " is not held by this service");
        Response missing = missingBlob(instances);
        if (missing != null) return missing;
        StreamingOutput body = out -> {
            JsonGenerator g = EventJson.mapper().getFactory().createGenerator(nonClosing(out));
            g.writeStartArray();
            for (IndexedInstance i : instances) {
                try {
                    g.writeTree(DicomJson.of(BlobHeaders.header(blobs, i.sha256())));
                } catch (DicomException e) {
                    throw new IOException("instance " + i.sopInstanceUid() + ": " + e.getMessage(), e);
                }
            }
            g.writeEndArray();
            g.close();
        };
        return Response.ok(body).header("Content-Type", DICOM_JSON).build();
    }

    /** The first frame as image/png, or 406 for what is not a single-frame greyscale image (a SEG, a colour image). */
    public Response rendered(IndexedInstance i, String accept) {
        if (accept != null && !accept.isBlank()) {
            String a = accept.toLowerCase(Locale.ROOT);
            if (!a.contains("image/png") && !a.contains("image/*") && !a.contains("*/*")) {
                return text(406, "the rendered resource answers image/png (Accept was: " + accept + ")");
            }
        }
        if (i.isSegmentation()) return text(406, "a segmentation (SEG) is not rendered; retrieve it as application/dicom");
        if (i.size() > MAX_RENDERED_BYTES) return text(406, "instance of " + i.size() + " bytes is too large to render here");
        try {
            AttributeList l = BlobHeaders.whole(blobs, i.sha256());
            return Response.ok(InstanceRenderer.png(l)).header("Content-Type", "image/png").build();
        } catch (BlobNotFoundException e) {
            return blobGone(i);
        } catch (InstanceRenderer.Unrenderable e) {
            return text(406, "instance " + i.sopInstanceUid() + " cannot be rendered: " + e.getMessage());
        } catch (IOException | DicomException | RuntimeException e) {
            LOG.warnf("instance %s (blob %s) could not be read to render it: %s", i.sopInstanceUid(), i.sha256(), e.toString());
            return text(406, "instance " + i.sopInstanceUid() + " cannot be rendered: its stored file could not be read");
        }
    }

    /** 404 (and a WARN) when a blob of the instances is not in the store, else null. */
    private Response missingBlob(List<IndexedInstance> instances) {
        for (IndexedInstance i : instances) {
            try {
                if (blobs.find(i.sha256()).isEmpty()) return blobGone(i);
            } catch (IOException e) {
                LOG.warnf("blob store lookup of %s failed: %s", i.sha256(), e.toString());
                return text(503, "the blob store is not available");
            }
        }
        return null;
    }

    private static Response blobGone(IndexedInstance i) {
        LOG.warnf("instance %s of study %s is indexed but its blob %s is not in the blob store", i.sopInstanceUid(), i.studyInstanceUid(),
                i.sha256());
        return text(404, "instance " + i.sopInstanceUid() + " is no longer in the blob store");
    }

    static Response text(int status, String message) {
        return Response.status(status).header("Content-Type", "text/plain").entity(message + "\n").build();
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }
}
