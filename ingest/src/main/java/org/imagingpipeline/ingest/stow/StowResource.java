package org.imagingpipeline.ingest.stow;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpServerRequest;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.blob.StagedBlob;
import org.imagingpipeline.dicomnet.InflateLimits;
import org.imagingpipeline.ingest.IncomingInstance;
import org.imagingpipeline.ingest.IngestConfig;
import org.imagingpipeline.ingest.IngestOutcome;
import org.imagingpipeline.ingest.InstanceIngestor;
import org.imagingpipeline.ingest.Quarantine;
import org.imagingpipeline.ingest.RejectReason;

/**
 * STOW-RS (PS3.18 10.5): {@code POST /dicomweb/studies[/{study}]} with {@code multipart/related; type="application/dicom"}.
 * Answers a DICOM JSON store response: 200 all stored, 202 some failed, 409 none stored because of the
 * instances, 413 none stored because every instance (or the request) was over its cap, 503 none stored because Kafka or
 * the disk is unavailable (retry later). The body is read as it arrives (gzip/deflate Content-Encoding undone within
 * {@link InflateLimits}), each part streamed to a staged blob: the heap does not grow with the request. Callers need a bearer token
 * with role scanner (or admin): 401 without, 403 with another role (docs/security.md).
 */
// The class path is /dicomweb (not /dicomweb/studies) so that the GET resources of the same URLs (QIDO-RS, WADO-RS in
// dicomweb.DicomWebResource, also at /dicomweb) are found: a longer class path here would claim them and answer 405.
@Path("/dicomweb")
@RolesAllowed({"scanner", "admin"})
public class StowResource {
    private static final String DICOM_JSON = "application/dicom+json";
    /** Series of one request remembered for its sender-done markers; beyond that many, they complete by inactivity. */
    static final int MAX_TRACKED_SERIES = 1000;
    private final InstanceIngestor ingestor;
    private final IngestConfig config;

    public StowResource(InstanceIngestor ingestor, IngestConfig config) {
        this.ingestor = ingestor;
        this.config = config;
    }

    @POST
    @Path("/studies")
    @Consumes("multipart/related")
    @Produces(DICOM_JSON)
    public Response store(@HeaderParam("Content-Type") String contentType, InputStream body, @Context HttpServerRequest request)
            throws IOException {
        return handle(contentType, body, null, request);
    }

    @POST
    @Path("/studies/{study}")
    @Consumes("multipart/related")
    @Produces(DICOM_JSON)
    public Response storeInStudy(@PathParam("study") String study, @HeaderParam("Content-Type") String contentType, InputStream body,
                                 @Context HttpServerRequest request) throws IOException {
        return handle(contentType, body, study, request);
    }

    private Response handle(String contentType, InputStream body, String study, HttpServerRequest request) throws IOException {
        Map<String, String> params = MultipartRelated.parameters(contentType);
        String type = params.getOrDefault("type", "application/dicom").toLowerCase(java.util.Locale.ROOT);
        if (!type.equals("application/dicom")) {
            return error(415, "only multipart/related; type=\"application/dicom\" is supported, got type=" + type);
        }
        String boundary = params.get("boundary");
        if (boundary == null || boundary.isEmpty()) return error(400, "multipart/related without a boundary parameter");
        long maxRequest = config.stow().maxRequestBytes();
        String declared = request == null ? null : request.getHeader("Content-Length");
        if (declared != null && declared.matches("[0-9]{1,18}") && Long.parseLong(declared) > maxRequest) {
            return error(413, "request body of " + declared + " bytes exceeds ingest.stow.max-request-bytes=" + maxRequest);
        }
        String encoding = request == null ? null : request.getHeader("Content-Encoding");
        InputStream decoded;
        String enc = encoding == null ? "identity" : encoding.trim().toLowerCase(java.util.Locale.ROOT);
        switch (enc) {
            case "identity", "" -> decoded = body;
            case "gzip", "x-gzip" -> decoded = ingestor.inflateLimits(maxRequest).inflate(body, InflateLimits.Format.GZIP);
            case "deflate" -> decoded = ingestor.inflateLimits(maxRequest).inflate(body, InflateLimits.Format.ZLIB);
            default -> {
                return error(415, "Content-Encoding " + encoding + " is not supported (gzip, deflate or none)");
            }
        }
        MultipartRelated multipart = new MultipartRelated(InflateLimits.capped(decoded, maxRequest), boundary);

        String remote = request == null || request.remoteAddress() == null ? null : request.remoteAddress().toString();
        InstanceReceived.Source source = new InstanceReceived.Source(InstanceReceived.Source.STOW_RS, null, null, remote);
        ArrayNode referenced = EventJson.mapper().createArrayNode();
        ArrayNode failed = EventJson.mapper().createArrayNode();
        int storedCount = 0;
        int unavailable = 0;
        int oversized = 0;
        int parts = 0;
        java.util.Set<String> seriesStored = new java.util.LinkedHashSet<>();
        try {
            Map<String, String> headers;
            while ((headers = multipart.next()) != null) {
                parts++;
                IngestOutcome outcome = receive(multipart, headers, study, source);
                if (outcome instanceof IngestOutcome.Stored st && seriesStored.size() < MAX_TRACKED_SERIES) {
                    seriesStored.add(st.event().seriesInstanceUid());
                }
                if (outcome.success()) {
                    storedCount++;
                    referenced.add(sopItem(outcome.sopClassUid(), outcome.sopInstanceUid(), null));
                } else {
                    IngestOutcome.Rejected r = (IngestOutcome.Rejected) outcome;
                    if (r.reason().transientFailure()) unavailable++;
                    if (r.reason() == RejectReason.OVERSIZED) oversized++;
                    failed.add(sopItem(r.sopClassUid(), r.sopInstanceUid(), r.reason().dimseStatus));
                }
            }
        } catch (InflateLimits.Exceeded e) {
            // The rest of the body is not read: what was stored before stays stored and is listed.
            ingestor.reject(IncomingInstance.claimed(null, null, null, study, source), RejectReason.OVERSIZED,
                    "request body " + e.getMessage() + " (ingest.stow.max-request-bytes=" + maxRequest + ", ingest.max-inflate-ratio)",
                    null, null, null, -1);
            return answer(413, referenced, failed);
        } catch (MultipartRelated.MalformedException | java.util.zip.ZipException | java.io.EOFException e) {
            if (referenced.isEmpty()) return error(400, "malformed multipart body: " + e.getMessage());
            return answer(400, referenced, failed);
        }
        // The request ended in order: the client is done with these series for now (series assembly may complete them).
        ingestor.senderDone(seriesStored, "STOW-RS");
        if (parts == 0) return error(400, "the request holds no instance");
        int status = failed.isEmpty() ? 200 : storedCount > 0 ? 202 : unavailable > 0 ? 503 : oversized == failed.size() ? 413 : 409;
        return answer(status, referenced, failed);
    }

    /** Streams one part into a staged blob and ingests it; the staged file is gone afterwards unless it became the blob. */
    private IngestOutcome receive(MultipartRelated multipart, Map<String, String> headers, String study, InstanceReceived.Source source)
            throws IOException {
        String ct = MultipartRelated.parameters(MultipartRelated.contentType(headers)).get("");
        IncomingInstance claimed = IncomingInstance.claimed(null, null, null, study, source);
        if (!"application/dicom".equals(ct)) {
            try (StagedBlob staged = ingestor.stage()) {
                long length = multipart.copy(staged.out(), Quarantine.MAX_KEPT_BYTES);
                return ingestor.reject(claimed, RejectReason.MALFORMED, "part of type " + ct + " is not application/dicom", null, null,
                        staged.file(), length);
            }
        }
        try (StagedBlob staged = ingestor.stage()) {
            long length;
            try {
                length = multipart.copy(staged.out(), ingestor.maxObjectBytes());
            } catch (UncheckedIOException e) {
                return ingestor.reject(claimed, RejectReason.STORAGE_UNAVAILABLE, "temporary file write failed: " + e.getCause().getMessage(),
                        null, null, null, 0);
            }
            if (length > ingestor.maxObjectBytes()) {
                return ingestor.reject(claimed, RejectReason.OVERSIZED, length + " bytes exceed ingest.max-object-bytes=" + ingestor.maxObjectBytes(),
                        null, null, staged.file(), length);
            }
            return ingestor.ingest(new IncomingInstance(staged, -1, null, null, null, study, source));
        }
    }

    private static Response answer(int status, ArrayNode referenced, ArrayNode failed) {
        ObjectNode answer = EventJson.mapper().createObjectNode();
        if (!referenced.isEmpty()) answer.set("00081199", sequence(referenced));
        if (!failed.isEmpty()) answer.set("00081198", sequence(failed));
        Response.ResponseBuilder rb = Response.status(status).type(DICOM_JSON).entity(answer.toString());
        if (status == 503) rb.header("Retry-After", "5");
        return rb.build();
    }

    private static ObjectNode sequence(ArrayNode items) {
        ObjectNode sq = EventJson.mapper().createObjectNode();
        sq.put("vr", "SQ");
        sq.set("Value", items);
        return sq;
    }

    private static ObjectNode sopItem(String sopClass, String sop, Integer failureReason) {
        ObjectNode item = EventJson.mapper().createObjectNode();
        if (sopClass != null) item.set("00081150", value("UI", sopClass));
        if (sop != null) item.set("00081155", value("UI", sop));
        if (failureReason != null) {
            ObjectNode fr = EventJson.mapper().createObjectNode();
            fr.put("vr", "US");
            fr.putArray("Value").add(failureReason);
            item.set("00081197", fr);
        }
        return item;
    }

    private static ObjectNode value(String vr, String v) {
        ObjectNode n = EventJson.mapper().createObjectNode();
        n.put("vr", vr);
        n.putArray("Value").add(v);
        return n;
    }

    private static Response error(int status, String message) {
        return Response.status(status).type("text/plain").entity(message + "\n").build();
    }
}
