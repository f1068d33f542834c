package org.imagingpipeline.ingest.dicomweb;

import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.imagingpipeline.blob.BlobStore;
import org.imagingpipeline.ingest.IngestConfig;
import org.imagingpipeline.securityaudit.Principals;

/**
 * QIDO-RS (PS3.18 10.6) and WADO-RS (10.4) beside STOW-RS, over what the pipeline holds (docs/dicomweb.md). Thin: the
 * searches are {@link QidoSearch}, the retrievals {@link WadoRetrieve}. Every method needs a bearer token with role
 * viewer (or admin): 401 without, 403 with another role (docs/security.md).
 */
@Path("/dicomweb")
@RolesAllowed({"viewer", "admin"})
public class DicomWebResource {
    private final DicomWebIndex index;
    private final QidoSearch qido;
    private final WadoRetrieve wado;
    private final int maxResults;
    private final DicomWebAccessAudit audit;
    private final SecurityIdentity identity;

    public DicomWebResource(DicomWebIndexer indexer, BlobStore blobs, IngestConfig config, DicomWebAccessAudit audit,
                            SecurityIdentity identity) {
        this.audit = audit;
        this.identity = identity;
        this.index = indexer.index();
        this.qido = new QidoSearch(index);
        this.wado = new WadoRetrieve(blobs);
        this.maxResults = config.dicomweb().maxResults();
    }

    // ------------------------------------------------------------------ QIDO-RS

    @GET
    @Path("studies")
    public Response searchStudies(@Context UriInfo uri) {
        return search(QidoQuery.Level.STUDY, uri, null, null);
    }

    @GET
    @Path("series")
    public Response searchSeries(@Context UriInfo uri) {
        return search(QidoQuery.Level.SERIES, uri, null, null);
    }

    @GET
    @Path("studies/{study}/series")
    public Response searchSeriesOfStudy(@PathParam("study") String study, @Context UriInfo uri) {
        return search(QidoQuery.Level.SERIES, uri, study, null);
    }

    @GET
    @Path("instances")
    public Response searchInstances(@Context UriInfo uri) {
        return search(QidoQuery.Level.INSTANCE, uri, null, null);
    }

    @GET
    @Path("studies/{study}/instances")
    public Response searchInstancesOfStudy(@PathParam("study") String study, @Context UriInfo uri) {
        return search(QidoQuery.Level.INSTANCE, uri, study, null);
    }

    @GET
    @Path("studies/{study}/series/{series}/instances")
    public Response searchInstancesOfSeries(@PathParam("study") String study, @PathParam("series") String series, @Context UriInfo uri) {
        return search(QidoQuery.Level.INSTANCE, uri, study, series);
    }

    private Response search(QidoQuery.Level level, UriInfo uri, String study, String series) {
        QidoQuery q;
        try {
            q = QidoQuery.parse(level, uri.getQueryParameters(), maxResults);
        } catch (IllegalArgumentException e) {
            return WadoRetrieve.text(400, e.getMessage());
        }
        String base = uri.getBaseUriBuilder().path("dicomweb").build().toString();
        QidoSearch.Page page = qido.search(q, base, study, series);
        audit.accessed(Principals.name(identity), "dicomweb-search", "QIDO-RS " + level.name().toLowerCase(java.util.Locale.ROOT)
                        + (study == null ? "" : " of study " + study),
                page.results().size() + " results; keys " + new java.util.TreeSet<>(uri.getQueryParameters().keySet()));
        // No match: 200 with an empty array (what OHIF and dcmjs expect; PS3.18 also allows 204), see docs/dicomweb.md.
        Response.ResponseBuilder rb = Response.ok(page.results().toString()).header("Content-Type", WadoRetrieve.DICOM_JSON);
        int remaining = page.remaining(q.offset());
        if (remaining > 0) rb.header("Warning", "299 ingest: \"There are " + remaining + " additional results that can be requested\"");
        return rb.build();
    }

    // ------------------------------------------------------------------ WADO-RS

    @GET
    @Path("studies/{study}")
    public Response retrieveStudy(@PathParam("study") String study, @HeaderParam("Accept") String accept) {
        return audited(wado.instances(studyInstances(study), accept, "study " + study), study, "the study");
    }

    @GET
    @Path("studies/{study}/series/{series}")
    public Response retrieveSeries(@PathParam("study") String study, @PathParam("series") String series,
                                   @HeaderParam("Accept") String accept) {
        return audited(wado.instances(index.series(study, series), accept, "series " + series + " of study " + study), study,
                "series " + series);
    }

    @GET
    @Path("studies/{study}/series/{series}/instances/{instance}")
    public Response retrieveInstance(@PathParam("study") String study, @PathParam("series") String series,
                                     @PathParam("instance") String instance, @HeaderParam("Accept") String accept) {
        return audited(wado.instances(instance(study, series, instance).map(List::of).orElse(List.of()), accept, "instance " + instance),
                study, "instance " + instance);
    }

    @GET
    @Path("studies/{study}/metadata")
    public Response studyMetadata(@PathParam("study") String study) {
        return audited(wado.metadata(studyInstances(study), "study " + study), study, "metadata of the study");
    }

    @GET
    @Path("studies/{study}/series/{series}/metadata")
    public Response seriesMetadata(@PathParam("study") String study, @PathParam("series") String series) {
        return audited(wado.metadata(index.series(study, series), "series " + series + " of study " + study), study,
                "metadata of series " + series);
    }

    @GET
    @Path("studies/{study}/series/{series}/instances/{instance}/metadata")
    public Response instanceMetadata(@PathParam("study") String study, @PathParam("series") String series,
                                     @PathParam("instance") String instance) {
        return audited(wado.metadata(instance(study, series, instance).map(List::of).orElse(List.of()), "instance " + instance),
                study, "metadata of instance " + instance);
    }

    @GET
    @Path("studies/{study}/series/{series}/instances/{instance}/rendered")
    public Response rendered(@PathParam("study") String study, @PathParam("series") String series,
                             @PathParam("instance") String instance, @HeaderParam("Accept") String accept) {
        Optional<IndexedInstance> i = instance(study, series, instance);
        if (i.isEmpty()) return WadoRetrieve.text(404, "instance " + instance + " is not held by this service");
        return audited(wado.rendered(i.get(), accept), study, "rendered instance " + instance);
    }

    /** A retrieval that returns patient data (200) is recorded: who read which study (docs/security.md, "Audit trail"). */
    private Response audited(Response r, String study, String what) {
        if (r.getStatus() == 200) audit.accessed(Principals.name(identity), "dicomweb-retrieve", "study " + study, what);
        return r;
    }

    private List<IndexedInstance> studyInstances(String study) {
        List<IndexedInstance> all = new ArrayList<>();
        index.study(study).values().forEach(all::addAll);
        return all;
    }

    private Optional<IndexedInstance> instance(String study, String series, String sop) {
        return index.instance(sop).filter(i -> i.studyInstanceUid().equals(study) && i.seriesInstanceUid().equals(series));
    }

}
