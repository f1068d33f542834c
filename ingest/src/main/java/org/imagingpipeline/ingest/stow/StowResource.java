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
import java.util.List;
import java.util.Map;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.ingest.IncomingInstance;
import org.imagingpipeline.ingest.IngestOutcome;
import org.imagingpipeline.ingest.InstanceIngestor;
import org.imagingpipeline.ingest.RejectReason;

/**
 * STOW-RS (PS3.18 10.5): {@code POST /dicomweb/studies[/{study}]} with {@code multipart/related; type="application/dicom"}.
 * Answers a DICOM JSON store response: 200 all stored, 202 some failed, 409 none stored because of the
 * instances, 503 none stored because Kafka or the disk is unavailable (retry later). Callers need a bearer token
 * with role scanner (or admin): 401 without, 403 with another role (docs/security.md).
 */
@Path("/dicomweb/studies")
@RolesAllowed({"scanner", "admin"})
public class StowResource {
    private static final String DICOM_JSON = "application/dicom+json";
    private final InstanceIngestor ingestor;

    public StowResource(InstanceIngestor ingestor) {
        this.ingestor = ingestor;
    }

    @POST
    @Consumes("multipart/related")
    @Produces(DICOM_JSON)
    public Response store(@HeaderParam("Content-Type") String contentType, InputStream body, @Context HttpServerRequest request)
            throws IOException {
        return handle(contentType, body, null, request);
    }

    @POST
    @Path("/{study}")
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
        byte[] bytes = body.readAllBytes();
        List<MultipartRelated.Part> parts;
        try {
            parts = MultipartRelated.split(bytes, boundary);
        } catch (IllegalArgumentException e) {
            return error(400, "malformed multipart body: " + e.getMessage());
        }
        if (parts.isEmpty()) return error(400, "the request holds no instance");
        String remote = request == null || request.remoteAddress() == null ? null : request.remoteAddress().toString();
        InstanceReceived.Source source = new InstanceReceived.Source(InstanceReceived.Source.STOW_RS, null, null, remote);
        ObjectNode answer = EventJson.mapper().createObjectNode();
        ArrayNode referenced = EventJson.mapper().createArrayNode();
        ArrayNode failed = EventJson.mapper().createArrayNode();
        int storedCount = 0;
        int unavailable = 0;
        for (MultipartRelated.Part part : parts) {
            String ct = MultipartRelated.parameters(part.contentType()).get("");
            IngestOutcome outcome;
            if (!"application/dicom".equals(ct)) {
                outcome = ingestor.reject(new IncomingInstance(null, -1, null, null, null, study, source),
                        RejectReason.MALFORMED, "part of type " + ct + " is not application/dicom", null, null, part.content(), part.length());
            } else {
                outcome = ingestor.ingest(new IncomingInstance(part.content(), -1, null, null, null, study, source));
            }
            if (outcome.success()) {
                storedCount++;
                referenced.add(sopItem(outcome.sopClassUid(), outcome.sopInstanceUid(), null));
            } else {
                IngestOutcome.Rejected r = (IngestOutcome.Rejected) outcome;
                if (r.reason().transientFailure()) unavailable++;
                failed.add(sopItem(r.sopClassUid(), r.sopInstanceUid(), r.reason().dimseStatus));
            }
        }
        if (!referenced.isEmpty()) answer.set("00081199", sequence(referenced));
        if (!failed.isEmpty()) answer.set("00081198", sequence(failed));
        int status = failed.isEmpty() ? 200 : storedCount > 0 ? 202 : unavailable > 0 ? 503 : 409;
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
