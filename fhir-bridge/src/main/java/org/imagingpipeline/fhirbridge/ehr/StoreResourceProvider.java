package org.imagingpipeline.fhirbridge.ehr;

import ca.uhn.fhir.rest.annotation.ConditionalUrlParam;
import ca.uhn.fhir.rest.annotation.Create;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.ResourceParam;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.annotation.Update;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Resource;

/**
 * Read, create (also conditional, If-None-Exist), update (also conditional) and search for one resource type,
 * backed by {@link EhrStore}. Search understands {@code _id}, {@code identifier}, {@code subject},
 * {@code patient}, {@code status}, {@code target}, {@code device}, {@code result} and {@code _tag} (with
 * {@code :not}); several values of one parameter are OR-ed (comma), several parameters AND-ed.
 */
public final class StoreResourceProvider implements IResourceProvider {
    private static final Set<String> IGNORED = Set.of("_count", "_format", "_pretty", "_summary", "_sort",
            "_elements", "_total");
    private final EhrStore store;
    private final Class<? extends IBaseResource> type;
    private final String typeName;

    public StoreResourceProvider(EhrStore store, Class<? extends IBaseResource> type) {
        this.store = store;
        this.type = type;
        this.typeName = store.context().getResourceType(type);
    }

    @Override
    public Class<? extends IBaseResource> getResourceType() {
        return type;
    }

    /** Read, and vread ({@code Type/id/_history/N}): every version is kept. */
    @Read(version = true)
    public IBaseResource read(@IdParam IdType id) {
        Resource r;
        if (id.hasVersionIdPart()) {
            if (!id.isVersionIdPartValidLong()) throw new ResourceNotFoundException(id);
            r = store.read(typeName, id.getIdPart(), (int) Math.min(Integer.MAX_VALUE, id.getVersionIdPartAsLong()));
        } else {
            r = store.read(typeName, id.getIdPart());
        }
        if (r == null) throw new ResourceNotFoundException(id);
        return r;
    }

    @Create
    public MethodOutcome create(@ResourceParam IBaseResource resource, @ConditionalUrlParam String conditionalUrl) {
        synchronized (store) {
            if (conditionalUrl != null) {
                Resource existing = store.matchOne(typeName, conditionalUrl);
                if (existing != null) {
                    return new MethodOutcome(existing.getIdElement(), false).setResource(existing);
                }
            }
            Resource stored = store.put(typeName, store.newId(), (Resource) resource);
            return new MethodOutcome(stored.getIdElement(), true).setResource(stored);
        }
    }

    @Update
    public MethodOutcome update(@IdParam IdType id, @ResourceParam IBaseResource resource,
                                @ConditionalUrlParam String conditionalUrl) {
        synchronized (store) {
            String target;
            if (conditionalUrl != null) {
                Resource existing = store.matchOne(typeName, conditionalUrl);
                target = existing != null ? existing.getIdElement().getIdPart() : store.newId();
            } else {
                target = id.getIdPart();
            }
            boolean created = !store.exists(typeName, target);
            Resource stored = store.put(typeName, target, (Resource) resource);
            return new MethodOutcome(stored.getIdElement(), created).setResource(stored);
        }
    }

    @Search(allowUnknownParams = true)
    public List<IBaseResource> search(RequestDetails request) {
        Map<String, String[]> params = request.getParameters();
        List<Resource> hits = store.search(typeName, r -> {
            for (Map.Entry<String, String[]> p : params.entrySet()) {
                if (IGNORED.contains(p.getKey())) continue;
                for (String v : p.getValue()) {
                    if (!EhrStore.Matchers.matches(store.context(), r, p.getKey(), v)) return false;
                }
            }
            return true;
        });
        return new ArrayList<>(hits);
    }
}
