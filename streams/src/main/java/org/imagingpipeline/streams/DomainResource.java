package org.imagingpipeline.streams;

import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * The domain registry over HTTP, on every replica ({@link DomainRequests}): GET /domains, GET /domains/{id}
 * ({@link DomainView}) as interactive queries, answered here when this instance hosts the registry and forwarded to the
 * instance that does otherwise; POST /domains/{id}/approve (202 once the approval command is acknowledged by Kafka; the
 * detector applies it). 503 with Retry-After while the registry is not queryable (starting, rebalancing) or Kafka does
 * not acknowledge. Bearer token roles (docs/security.md): viewer (or admin) for the GETs, mlops (or admin) for approve.
 * Every approve that passed authorisation is recorded on {@code audit.events} with the token's subject and its answer.
 */
@Path("/domains")
@Produces(MediaType.APPLICATION_JSON)
public class DomainResource {
    @Inject
    DomainRequests requests;
    @Inject
    SecurityIdentity identity;
    @Inject
    StreamsAudit audit;

    @GET
    @RolesAllowed({"viewer", "admin"})
    public Response all(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                        @HeaderParam(DomainRequests.FORWARDED_HEADER) String forwardedBy) {
        return response(requests.all(authorization, forwardedBy != null));
    }

    @GET
    @Path("/{id}")
    @RolesAllowed({"viewer", "admin"})
    public Response one(@PathParam("id") String id, @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
                        @HeaderParam(DomainRequests.FORWARDED_HEADER) String forwardedBy) {
        return response(requests.one(id, authorization, forwardedBy != null));
    }

    @POST
    @Path("/{id}/approve")
    @RolesAllowed({"mlops", "admin"})
    public Response approve(@PathParam("id") String id, @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
        String principal = identity.isAnonymous() ? "anonymous" : identity.getPrincipal().getName();
        Response r = response(requests.approve(id, principal, authorization));
        String outcome = r.getStatus() == 202 ? "accepted" : "refused";
        audit.log().record(principal, "approve", "domain " + (id.matches("[A-Za-z0-9_.-]{1,100}") ? id : "(not an id)"), outcome,
                "HTTP " + r.getStatus());
        return r;
    }

    private static Response response(DomainRequests.Answer a) {
        Response.ResponseBuilder b = Response.status(a.status()).entity(a.body());
        if (a.retryAfter() > 0) b.header("Retry-After", a.retryAfter());
        return b.build();
    }
}
