package org.imagingpipeline.fhirbridge.ehr;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.exceptions.PreconditionFailedException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * The EHR stand-in's data: every resource type in one in-memory map, with version history. Thread-safe through
 * its own monitor; a transaction holds the monitor for its whole run, so it is atomic to other requests.
 */
public final class EhrStore {
    private final FhirContext ctx;
    /** type -> id -> versions (oldest first). */
    private final Map<String, Map<String, List<Resource>>> data = new LinkedHashMap<>();
    private final AtomicLong nextId = new AtomicLong(1);

    public EhrStore(FhirContext ctx) {
        this.ctx = ctx;
    }

    public FhirContext context() {
        return ctx;
    }

    public synchronized String newId() {
        return Long.toString(nextId.getAndIncrement());
    }

    /** Current version of Type/id, a copy, or null. */
    public synchronized Resource read(String type, String id) {
        List<Resource> v = versions(type).get(id);
        return v == null || v.isEmpty() ? null : v.get(v.size() - 1).copy();
    }

    /** Version {@code version} (1 = as created) of Type/id, a copy, or null. */
    public synchronized Resource read(String type, String id, int version) {
        List<Resource> v = versions(type).get(id);
        return v == null || version < 1 || version > v.size() ? null : v.get(version - 1).copy();
    }

    public synchronized boolean exists(String type, String id) {
        return versions(type).containsKey(id);
    }

    /**
     * Stores a new version of the resource under its id (a copy); returns the stored copy with meta set. Content equal
     * to the current version's (meta's version, time and source aside) makes no new version, as on a HAPI FHIR JPA
     * server: the current version is returned.
     */
    public synchronized Resource put(String type, String id, Resource resource) {
        List<Resource> v = versions(type).computeIfAbsent(id, k -> new ArrayList<>());
        if (!v.isEmpty() && content(v.get(v.size() - 1)).equals(content(resource))) return v.get(v.size() - 1).copy();
        Resource r = resource.copy();
        r.setId(type + "/" + id + "/_history/" + (v.size() + 1));
        r.getMeta().setVersionId(Integer.toString(v.size() + 1));
        r.getMeta().setLastUpdated(Date.from(Instant.now()));
        v.add(r);
        return r.copy();
    }

    /** The resource's JSON without id and without meta's versionId, lastUpdated and source. */
    private String content(Resource r) {
        Resource c = r.copy();
        c.setId((String) null);
        c.getMeta().setVersionId(null).setLastUpdated(null).setSource(null);
        return ctx.newJsonParser().encodeResourceToString(c);
    }

    /** Current versions of every resource of a type that match, copies. */
    public synchronized List<Resource> search(String type, Predicate<Resource> match) {
        List<Resource> out = new ArrayList<>();
        for (List<Resource> v : versions(type).values()) {
            Resource cur = v.get(v.size() - 1);
            if (match.test(cur)) out.add(cur.copy());
        }
        return out;
    }

    public synchronized int count(String type) {
        return versions(type).size();
    }

    public synchronized void clear() {
        data.clear();
    }

    private Map<String, List<Resource>> versions(String type) {
        return data.computeIfAbsent(type, k -> new LinkedHashMap<>());
    }

    /**
     * Resolves a conditional URL's query ({@code identifier=system|value}, {@code _id=...}, AND-ed) to the current
     * matches of a type. Only the parameters the bridge uses in conditional operations are understood.
     */
    public synchronized List<Resource> matchConditional(String type, String query) {
        Map<String, String> params = parseQuery(query);
        return search(type, r -> {
            for (Map.Entry<String, String> p : params.entrySet()) {
                if (!Matchers.matches(ctx, r, p.getKey(), p.getValue())) return false;
            }
            return true;
        });
    }

    /** The one current match of a conditional URL, null when none; 412 when more than one. */
    public synchronized Resource matchOne(String type, String query) {
        List<Resource> m = matchConditional(type, query);
        if (m.size() > 1) {
            throw new PreconditionFailedException("Conditional URL " + type + "?" + query + " matched " + m.size()
                    + " resources");
        }
        return m.isEmpty() ? null : m.get(0);
    }

    static Map<String, String> parseQuery(String query) {
        Map<String, String> out = new LinkedHashMap<>();
        if (query == null) return out;
        String q = query.contains("?") ? query.substring(query.indexOf('?') + 1) : query;
        for (String part : q.split("&")) {
            if (part.isEmpty()) continue;
            int eq = part.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
            out.put(k, v);
        }
        return out;
    }

    /** The small search-parameter vocabulary the stand-in understands. */
    static final class Matchers {
        private Matchers() {
        }

        static boolean matches(FhirContext ctx, Resource r, String name, String value) {
            String base = name.contains(":") ? name.substring(0, name.indexOf(':')) : name;
            String modifier = name.contains(":") ? name.substring(name.indexOf(':') + 1) : null;
            boolean any = false;
            for (String alt : value.split(",")) {
                if (matchesOne(ctx, r, base, alt)) {
                    any = true;
                    break;
                }
            }
            return "not".equals(modifier) != any;
        }

        private static boolean matchesOne(FhirContext ctx, Resource r, String name, String value) {
            switch (name) {
                case "_id":
                    return r.getIdElement().getIdPart().equals(value);
                case "identifier":
                    return token(ctx.newTerser().getValues(r, "identifier", Identifier.class), value);
                case "_tag":
                    return r.getMeta().getTag().stream().anyMatch(c -> tokenMatches(c.getSystem(), c.getCode(), value));
                case "status": {
                    List<org.hl7.fhir.instance.model.api.IPrimitiveType> s =
                            ctx.newTerser().getValues(r, "status", org.hl7.fhir.instance.model.api.IPrimitiveType.class);
                    return s.stream().anyMatch(p -> value.equals(p.getValueAsString()));
                }
                case "subject":
                case "patient":
                case "target":
                case "result":
                case "device": {
                    String path = "patient".equals(name) && !"Patient".equals(r.fhirType()) ? "subject" : name;
                    if (r.fhirType().equals("Patient")) return false;
                    return ctx.newTerser().getValues(r, path, Reference.class).stream()
                            .anyMatch(ref -> refMatches(ref, value, "patient".equals(name) ? "Patient" : null));
                }
                default:
                    throw new ca.uhn.fhir.rest.server.exceptions.InvalidRequestException(
                            "The EHR stand-in does not support search parameter " + name);
            }
        }

        private static boolean token(List<Identifier> ids, String value) {
            return ids.stream().anyMatch(i -> tokenMatches(i.getSystem(), i.getValue(), value));
        }

        static boolean tokenMatches(String system, String code, String token) {
            int bar = token.indexOf('|');
            if (bar < 0) return token.equals(code);
            String s = token.substring(0, bar);
            String c = token.substring(bar + 1);
            boolean sysOk = s.isEmpty() ? system == null || system.isEmpty() : s.equals(system);
            return sysOk && (c.isEmpty() || c.equals(code));
        }

        private static boolean refMatches(Reference ref, String value, String impliedType) {
            String r = ref.getReference();
            if (r == null) return false;
            String want = value.contains("/") ? value : (impliedType != null ? impliedType + "/" + value : null);
            if (want != null) return r.equals(want) || r.endsWith("/" + want);
            return r.endsWith("/" + value);
        }
    }
}
