package org.imagingpipeline.retrain.service.api;

import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import io.quarkus.security.identity.SecurityIdentity;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.AuditLog;
import org.imagingpipeline.retrain.service.RetrainService;
import org.imagingpipeline.securityaudit.Principals;
import org.imagingpipeline.retrain.service.SafeNames;
import org.imagingpipeline.retrain.service.jobs.Job;
import org.imagingpipeline.retrain.service.jobs.JobSettings;
import org.imagingpipeline.retrain.service.registry.Promotion;
import org.imagingpipeline.retrain.service.registry.RegistryView;

/**
 * The ML-ops API: start an adaptation (POST /domains/{id}/adapt), follow jobs (GET /jobs, GET /jobs/{id}, POST
 * /jobs/{id}/cancel), see the registry (GET /models) and roll a domain back (POST /domains/{id}/rollback). Errors are
 * JSON objects {@code {"error": "..."}} with 400 (bad request), 404 (unknown), 409 (not possible now: no series of
 * the domain, nothing to roll back, job already finished) or 503 (the service is not running jobs). Bearer token roles
 * (docs/security.md): viewer (or admin) for the GETs, mlops (or admin) for adapt, cancel and rollback, admin for GET
 * /audit. Adapt, cancel and rollback are recorded on {@code audit.events} with the caller's token subject, whatever
 * their outcome.
 */
@Path("/")
@Produces(MediaType.APPLICATION_JSON)
public class RetrainResource {
    /** POST /domains/{id}/adapt body. All fields but method are optional. */
    public record AdaptBody(String method, Double maxMinutes, Long seed, Integer maxSeries) {
    }

    /** POST /domains/{id}/rollback body (optional). */
    public record RollbackBody(String reason) {
    }

    /** One rollback at a time: each reads the routing the previous one wrote. */
    private static final Object ROLLBACK_LOCK = new Object();

    @Inject
    RetrainService service;

    @Inject
    SecurityIdentity identity;

    /** Most audit events GET /audit returns. */
    static final int AUDIT_MAX = 1000;

    @POST
    @Path("domains/{id}/adapt")
    @RolesAllowed({"mlops", "admin"})
    @Consumes(MediaType.APPLICATION_JSON)
    public Response adapt(@PathParam("id") String domainId, AdaptBody body) {
        return audited("adapt", "domain " + SafeNames.forLog(domainId), adaptUnaudited(domainId, body));
    }

    private Response adaptUnaudited(String domainId, AdaptBody body) {
        if (service.runner() == null) return error(503, "jobs are not running (retrain.enabled=false or starting)");
        if (!SafeNames.isId(domainId)) return error(400, "not a domain id: " + domainId);
        if (body == null || body.method() == null) return error(400, "body needs a method: one of " + JobSettings.METHODS);
        if (!JobSettings.METHODS.contains(body.method())) {
            return error(400, "method must be one of " + JobSettings.METHODS + ", got " + body.method());
        }
        if (body.maxMinutes() != null && !(body.maxMinutes() > 0)) return error(400, "maxMinutes must be > 0");
        if (body.maxSeries() != null && body.maxSeries() < 1) return error(400, "maxSeries must be >= 1");
        if (service.catalog().count(domainId) == 0) {
            return error(409, "no series of domain " + domainId + " have arrived on imaging.series.ready");
        }
        Job job = service.runner().submit(domainId, body.method(), new Job.Options(body.maxMinutes(), body.seed(), body.maxSeries()),
                "api");
        return Response.accepted(job).location(URI.create("/jobs/" + job.id)).build();
    }

    /** What the service knows of a domain: series in its catalog, a drift confirmation waiting for series, what serves it. */
    @GET
    @Path("domains/{id}")
    @RolesAllowed({"viewer", "admin"})
    public Response domain(@PathParam("id") String domainId) {
        if (service.catalog() == null) return error(503, "jobs are not running (retrain.enabled=false or starting)");
        if (!SafeNames.isId(domainId)) return error(400, "not a domain id: " + domainId);
        Map<String, Object> answer = new java.util.LinkedHashMap<>();
        answer.put("domainId", domainId);
        answer.put("series", service.catalog().count(domainId));
        answer.put("pendingDrift", service.trigger().pending().get(domainId));
        answer.put("serving", service.view().servingFor(domainId).orElse(null));
        return Response.ok(answer).build();
    }

    @GET
    @Path("jobs")
    @RolesAllowed({"viewer", "admin"})
    public List<Job> jobs() {
        return service.store().all();
    }

    @GET
    @Path("jobs/{id}")
    @RolesAllowed({"viewer", "admin"})
    public Response job(@PathParam("id") String id) {
        Optional<Job> j = service.store().get(id);
        return j.isPresent() ? Response.ok(j.get()).build() : error(404, "no job " + id);
    }

    @POST
    @Path("jobs/{id}/cancel")
    @RolesAllowed({"mlops", "admin"})
    public Response cancel(@PathParam("id") String id) {
        return audited("cancel", "job " + SafeNames.forLog(id), cancelUnaudited(id));
    }

    private Response cancelUnaudited(String id) {
        if (service.runner() == null) return error(503, "jobs are not running");
        Optional<Job> before = service.store().get(id);
        if (before.isEmpty()) return error(404, "no job " + id);
        if (before.get().finished()) return error(409, "job " + id + " is " + before.get().status + " already");
        Job after = service.runner().cancel(id).orElseThrow();
        return after.finished() ? Response.ok(after).build() : Response.accepted(after).build();
    }

    @GET
    @Path("models")
    @RolesAllowed({"viewer", "admin"})
    public List<RegistryView.DomainModels> models() {
        return service.view().domains();
    }

    @POST
    @Path("domains/{id}/rollback")
    @RolesAllowed({"mlops", "admin"})
    public Response rollback(@PathParam("id") String domainId, RollbackBody body) throws InterruptedException {
        return audited("rollback", "domain " + SafeNames.forLog(domainId), rollbackUnaudited(domainId, body));
    }

    private Response rollbackUnaudited(String domainId, RollbackBody body) throws InterruptedException {
        if (!SafeNames.isId(domainId)) return error(400, "not a domain id: " + domainId);
        if (!service.view().caughtUp()) return error(503, "the registry view is still reading ml.model.versions");
        String reason = body != null && body.reason() != null && !body.reason().isBlank() ? body.reason() : "requested by ML ops";
        Optional<Promotion.Rollback> r;
        synchronized (ROLLBACK_LOCK) {
            r = Promotion.rollback(service.view(), domainId, reason, Instant.now());
            if (r.isEmpty()) return error(409, "domain " + domainId + " is served by the default model; nothing to roll back");
            service.publisher().publish(r.get().records());
        }
        service.metrics().rolledBack(domainId);
        Map<String, Object> answer = new java.util.LinkedHashMap<>();
        answer.put("domainId", domainId);
        answer.put("rolledBack", r.get().rolledBack().version());
        answer.put("serving", r.get().nowServing());
        answer.put("servedBy", r.get().nowServing() == null ? "default" : domainId);
        return Response.ok(answer).build();
    }

    /**
     * The most recent audit events of every service ({@code audit.events}), oldest first: {@code limit} (1 to
     * {@value #AUDIT_MAX}, default 100). Admin only.
     */
    @GET
    @Path("audit")
    @RolesAllowed("admin")
    public Response audit(@jakarta.ws.rs.QueryParam("limit") @jakarta.ws.rs.DefaultValue("100") int limit) {
        if (limit < 1 || limit > AUDIT_MAX) return error(400, "limit must be 1 to " + AUDIT_MAX);
        if (service.kafkaClients() == null) return error(503, "the service is starting");
        return Response.ok(AuditLog.recent(service.kafkaClients(), Topics.AUDIT_EVENTS, limit, java.time.Duration.ofSeconds(10))).build();
    }

    /** Records the request's outcome on the audit trail (2xx: succeeded, or accepted for 202; else refused) and returns it. */
    private Response audited(String action, String target, Response r) {
        AuditLog audit = service.audit();
        if (audit != null) {
            String outcome = r.getStatus() == 202 ? "accepted" : r.getStatus() / 100 == 2 ? "succeeded" : "refused";
            String detail = "HTTP " + r.getStatus();
            if (r.getEntity() instanceof Job j) detail += ", job " + j.id;
            audit.record(Principals.name(identity), action, target, outcome, detail);
        }
        return r;
    }

    private static Response error(int status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(Map.of("error", message)).build();
    }
}
