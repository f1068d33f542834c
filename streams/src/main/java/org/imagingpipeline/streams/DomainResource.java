package org.imagingpipeline.streams;

import io.quarkus.security.identity.SecurityIdentity;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The domain registry over HTTP (interactive queries on {@link DriftDetector#REGISTRY_STORE}): GET /domains,
 * GET /domains/{id} ({@link DomainView}), POST /domains/{id}/approve (202; the detector applies it within a second).
 * 503 while the store is not queryable (starting, rebalancing). Bearer token roles (docs/security.md): viewer (or admin)
 * for the GETs, mlops (or admin) for approve. Every approve that passed authorisation is recorded on {@code audit.events}
 * with the token's subject and its answer.
 */
@Path("/domains")
@Produces(MediaType.APPLICATION_JSON)
public class DomainResource {
    @Inject
    KafkaStreams streams;
    @Inject
    ApprovalQueue approvals;
    @Inject
    SecurityIdentity identity;
    @Inject
    StreamsAudit audit;

    @GET
    @RolesAllowed({"viewer", "admin"})
    public Response all() {
        return query(store -> {
            List<DomainView> out = new ArrayList<>();
            try (KeyValueIterator<String, DomainState> it = store.all()) {
                it.forEachRemaining(kv -> out.add(DomainView.of(kv.value)));
            }
            out.sort(Comparator.comparing(DomainView::firstSeen, Comparator.nullsLast(Comparator.naturalOrder())).thenComparing(DomainView::id));
            return Response.ok(out).build();
        });
    }

    @GET
    @Path("/{id}")
    @RolesAllowed({"viewer", "admin"})
    public Response one(@PathParam("id") String id) {
        return query(store -> {
            DomainState d = store.get(id);
            return d == null ? notFound(id) : Response.ok(DomainView.of(d)).build();
        });
    }

    @POST
    @Path("/{id}/approve")
    @RolesAllowed({"mlops", "admin"})
    public Response approve(@PathParam("id") String id) {
        Response r = approveUnaudited(id);
        String principal = identity.isAnonymous() ? "anonymous" : identity.getPrincipal().getName();
        String outcome = r.getStatus() == 202 ? "accepted" : "refused";
        audit.log().record(principal, "approve", "domain " + (id.matches("[A-Za-z0-9_.-]{1,100}") ? id : "(not an id)"), outcome,
                "HTTP " + r.getStatus());
        return r;
    }

    private Response approveUnaudited(String id) {
        return query(store -> {
            DomainState d = store.get(id);
            if (d == null) return notFound(id);
            approvals.add(id);
            return Response.accepted(Map.of("id", id, "status", d.status, "requested", "KNOWN",
                    "note", "applied by the detector within " + DriftDetector.APPROVAL_INTERVAL.toMillis() + " ms; see GET /domains/" + id)).build();
        });
    }

    private Response query(Function<ReadOnlyKeyValueStore<String, DomainState>, Response> q) {
        try {
            return q.apply(streams.store(StoreQueryParameters.fromNameAndType(DriftDetector.REGISTRY_STORE, QueryableStoreTypes.keyValueStore())));
        } catch (InvalidStateStoreException e) {
            return unavailable(e);
        }
    }

    private static Response notFound(String id) {
        return Response.status(404).entity(Map.of("error", "no domain " + id)).build();
    }

    private static Response unavailable(InvalidStateStoreException e) {
        return Response.status(503).entity(Map.of("error", "domain registry not queryable yet: " + e.getMessage())).build();
    }
}
