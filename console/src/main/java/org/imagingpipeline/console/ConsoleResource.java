package org.imagingpipeline.console;

import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import java.util.Map;
import java.util.regex.Pattern;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jboss.logging.Logger;

/**
 * The console's pages: the overview (scanners, adaptation jobs, models), its sections for live refresh, and the
 * actions (approve a scanner, roll back a domain's model), each forwarded to the service that owns it with the
 * person's token. Reading needs viewer (or admin); acting needs mlops (or admin), as in the APIs.
 */
@Path("/")
public class ConsoleResource {
    private static final Logger LOG = Logger.getLogger(ConsoleResource.class);
    /** Domain ids as streams makes them (dom-HEX) or as tests and operators name them: letters, digits, '-', '_', '.'. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final int MAX_REASON_CHARS = 500;

    @CheckedTemplate
    static class Templates {
        static native TemplateInstance overview(Overview overview, String who, boolean mlops, String message, long refreshMs);

        static native TemplateInstance sections(Overview overview, boolean mlops);

        static native TemplateInstance job(JobPage job, String who);
    }

    @Inject
    ServiceCalls calls;
    @Inject
    ConsoleConfig config;
    @Inject
    JsonWebToken jwt;
    @Inject
    SecurityIdentity identity;
    @Inject
    io.vertx.core.http.HttpServerRequest request;

    @GET
    @RolesAllowed({"viewer", "admin"})
    @Produces(MediaType.TEXT_HTML)
    public TemplateInstance overview(@QueryParam("message") String message) {
        String who = who();
        String shown = message == null ? null : message.length() > 300 ? message.substring(0, 300) : message;
        return Templates.overview(read(), who, mlops(), shown, config.refreshInterval().toMillis());
    }

    /** The sections alone, for the page's refresh (plain JavaScript polling). */
    @GET
    @Path("sections")
    @RolesAllowed({"viewer", "admin"})
    @Produces(MediaType.TEXT_HTML)
    public TemplateInstance sections() {
        return Templates.sections(read(), mlops());
    }

    /** One adaptation job: what it ran on, where it is, its log tail and the gate's evidence. */
    @GET
    @Path("jobs/{id}")
    @RolesAllowed({"viewer", "admin"})
    @Produces(MediaType.TEXT_HTML)
    public TemplateInstance job(@PathParam("id") String id) {
        JobPage page = ID.matcher(id).matches()
                ? JobPage.of(id, calls.get("retrain", config.retrainUrl(), "/jobs/" + id, jwt.getRawToken()))
                : JobPage.failed(id, "Not a job id.");
        return Templates.job(page, who());
    }

    @POST
    @Path("domains/{id}/approve")
    @RolesAllowed({"mlops", "admin"})
    public Response approve(@PathParam("id") String id, @HeaderParam("Origin") String origin) {
        Response refused = checkRequest(id, origin);
        if (refused != null) return refused;
        ServiceCalls.Answer a = calls.post("streams", config.streamsUrl(), "/domains/" + id + "/approve", jwt.getRawToken(), Map.of());
        LOG.infof("approve domain %s by %s: %s", id, jwt.getSubject(), a.ok() ? "done" : a.problem());
        return back(a.ok() ? "Scanner " + id + " approved: it is KNOWN now." : a.problem());
    }

    @POST
    @Path("domains/{id}/rollback")
    @RolesAllowed({"mlops", "admin"})
    public Response rollback(@PathParam("id") String id, @FormParam("reason") String reason, @FormParam("confirm") String confirm,
                             @HeaderParam("Origin") String origin) {
        Response refused = checkRequest(id, origin);
        if (refused != null) return refused;
        if (!"yes".equals(confirm)) return back("Roll back of " + id + " not done: tick the confirmation.");
        String why = reason == null || reason.isBlank() ? null : reason.strip();
        if (why == null) return back("Roll back of " + id + " not done: give a reason (it goes to the audit trail).");
        if (why.length() > MAX_REASON_CHARS) why = why.substring(0, MAX_REASON_CHARS);
        ServiceCalls.Answer a = calls.post("retrain", config.retrainUrl(), "/domains/" + id + "/rollback", jwt.getRawToken(),
                Map.of("reason", why));
        LOG.infof("roll back domain %s by %s: %s", id, jwt.getSubject(), a.ok() ? "done" : a.problem());
        if (!a.ok()) return back(a.problem());
        return back("Domain " + id + ": version " + a.body().path("rolledBack").asText() + " rolled back; now served by "
                + (a.body().path("serving").hasNonNull("version") ? "version " + a.body().path("serving").get("version").asText()
                : "the default model") + ".");
    }

    private Overview read() {
        String token = jwt.getRawToken();
        ServiceCalls.Answer models = calls.get("retrain", config.retrainUrl(), "/models", token);
        ServiceCalls.Answer domains = calls.get("streams", config.streamsUrl(), "/domains", token);
        ServiceCalls.Answer jobs = calls.get("retrain", config.retrainUrl(), "/jobs", token);
        return new Overview(Overview.scanners(domains, Overview.servingByDomain(models)), Overview.jobs(jobs), Overview.models(models));
    }

    private String who() {
        return jwt.getSubject() + " (" + String.join(", ", new java.util.TreeSet<>(jwt.getGroups())) + ")";
    }

    private boolean mlops() {
        return identity.hasRole("mlops") || identity.hasRole("admin");
    }

    /**
     * A form post must come from the console's own pages (besides the SameSite=Strict cookie): a browser's Origin, when
     * sent, must name the host the request was sent to (HTTP/1.1 Host or HTTP/2 :authority). And it must name a plain id.
     */
    private Response checkRequest(String id, String origin) {
        if (!ID.matcher(id).matches()) return back("Not a domain id.");
        String host = request.authority() == null ? null : request.authority().toString();
        if (origin != null && !origin.isBlank() && !origin.replaceFirst("^https?://", "").equals(host)) {
            LOG.warnf("refused a cross-origin form post for domain %s (Origin %s, Host %s)", id, origin, host);
            return Response.status(403).type(MediaType.TEXT_PLAIN).entity("cross-origin request refused").build();
        }
        return null;
    }

    private static Response back(String message) {
        return Response.seeOther(UriBuilder.fromPath("/").queryParam("message", message).build()).build();
    }
}
