package org.imagingpipeline.fhirbridge.ehr;

import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * System-level transaction for the EHR stand-in: POST (plain or conditional with {@code ifNoneExist}) and PUT
 * (by id, with or without {@code ifMatch}, or conditional by search URL) entries, placeholder ({@code urn:uuid:}) references rewritten to the
 * stored ids, references to stored resources checked (an unknown one is a 400, and so is an absolute URL, even this
 * server's own: both as on a HAPI FHIR JPA server with its default settings), all or nothing under the store's lock.
 */
public final class TransactionProvider {
    private final EhrStore store;
    private volatile Function<Bundle, BaseServerResponseException> fault = b -> null;

    public TransactionProvider(EhrStore store) {
        this.store = store;
    }

    /** For tests and demos: a rule that may answer a transaction with an error instead of processing it. */
    public void setFault(Function<Bundle, BaseServerResponseException> rule) {
        this.fault = rule == null ? b -> null : rule;
    }

    @Transaction
    public Bundle transaction(@TransactionParam Bundle in) {
        BaseServerResponseException injected = fault.apply(in);
        if (injected != null) throw injected;
        if (in.getType() != Bundle.BundleType.TRANSACTION) {
            throw new InvalidRequestException("Bundle.type must be transaction, got " + in.getType());
        }
        synchronized (store) {
            List<Planned> plan = new ArrayList<>();
            Map<String, String> placeholders = new HashMap<>();
            for (BundleEntryComponent e : in.getEntry()) {
                Planned p = plan(e);
                plan.add(p);
                // Only placeholders are resolved: an absolute fullUrl (even this server's own) is not, as on a HAPI
                // FHIR JPA server, where a reference to it is an external reference.
                if (e.hasFullUrl() && e.getFullUrl().startsWith("urn:")) placeholders.put(e.getFullUrl(), p.type + "/" + p.id);
            }
            for (Planned p : plan) {
                if (!p.write) continue;
                for (Reference ref : store.context().newTerser().getAllPopulatedChildElementsOfType(p.resource,
                        Reference.class)) {
                    String r = ref.getReference();
                    if (r == null || r.startsWith("#")) continue;
                    String mapped = placeholders.get(r);
                    if (mapped != null) {
                        ref.setReference(mapped);
                    } else if (r.startsWith("urn:")) {
                        throw new InvalidRequestException("Unresolved placeholder reference " + r);
                    } else if (r.contains("://")) {
                        throw new InvalidRequestException("Resource contains external reference to URL \"" + r
                                + "\" but this server is not configured to allow external references");
                    } else {
                        String[] parts = r.split("/");
                        if (parts.length < 2 || !store.exists(parts[parts.length - 2], parts[parts.length - 1])) {
                            throw new InvalidRequestException("Resource " + r + " not found, referenced from "
                                    + p.type);
                        }
                    }
                }
            }
            Bundle out = new Bundle().setType(Bundle.BundleType.TRANSACTIONRESPONSE);
            for (Planned p : plan) {
                Resource stored = p.write ? store.put(p.type, p.id, p.resource) : store.read(p.type, p.id);
                String status = p.created ? "201 Created" : "200 OK";
                out.addEntry().getResponse().setStatus(status)
                        .setLocation(p.type + "/" + p.id + "/_history/" + stored.getMeta().getVersionId())
                        .setEtag("W/\"" + stored.getMeta().getVersionId() + "\"");
            }
            return out;
        }
    }

    private Planned plan(BundleEntryComponent e) {
        if (!e.hasResource() || !e.hasRequest()) throw new InvalidRequestException("entry without resource/request");
        Resource r = e.getResource().copy();
        String type = r.fhirType();
        HTTPVerb verb = e.getRequest().getMethod();
        String url = e.getRequest().getUrl();
        if (verb == HTTPVerb.POST) {
            if (e.getRequest().hasIfNoneExist()) {
                Resource existing = store.matchOne(type, e.getRequest().getIfNoneExist());
                if (existing != null) return new Planned(type, existing.getIdElement().getIdPart(), r, false, false);
            }
            return new Planned(type, store.newId(), r, true, true);
        }
        if (verb == HTTPVerb.PUT) {
            if (url.contains("?")) {
                Resource existing = store.matchOne(type, url.substring(url.indexOf('?') + 1));
                String id = existing != null ? existing.getIdElement().getIdPart() : store.newId();
                return new Planned(type, id, r, true, existing == null);
            }
            String[] parts = url.split("/");
            if (parts.length != 2 || !parts[0].equals(type)) {
                throw new InvalidRequestException("PUT url must be " + type + "/[id], got " + url);
            }
            if (e.getRequest().hasIfMatch()) ifMatch(type, parts[1], e.getRequest().getIfMatch());
            return new Planned(type, parts[1], r, true, !store.exists(type, parts[1]));
        }
        throw new InvalidRequestException("The EHR stand-in supports POST and PUT entries only, got " + verb);
    }

    /**
     * An update with {@code If-Match: W/"N"} (entry.request.ifMatch) goes through only while the stored resource is at
     * version N; otherwise 412 Precondition Failed, as FHIR R4 prescribes (http.html#concurrency; a HAPI JPA server
     * answers 409 Conflict), and the whole transaction is refused.
     */
    private void ifMatch(String type, String id, String header) {
        String want = header.trim().replaceFirst("^W/", "").replace("\"", "");
        String have = store.exists(type, id) ? store.read(type, id).getMeta().getVersionId() : null;
        if (!want.equals(have)) {
            throw new PreconditionFailedException("If-Match " + header + ": " + type + "/" + id
                    + (have == null ? " does not exist" : " is at version " + have));
        }
    }

    private record Planned(String type, String id, Resource resource, boolean write, boolean created) {
    }
}
