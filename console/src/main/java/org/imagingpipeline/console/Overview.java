package org.imagingpipeline.console;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the console's main page shows, read from the services with the person's token: scanners (streams' domains),
 * adaptation jobs and models (retrain). Each section has its rows, or the sentence saying why it has none. Only what
 * the APIs expose reaches the page: domain ids, fingerprints (scanner make and model, site, protocol), statistics, model
 * versions; the APIs carry no patient names or birth dates.
 */
public record Overview(Section<Scanner> scanners, Section<Job> jobs, Section<Model> models) {
    /** The rows of a section, or why it has none ({@code problem}, a sentence). */
    public record Section<T>(List<T> rows, String problem) {
        static <T> Section<T> failed(String problem) {
            return new Section<>(List.of(), problem);
        }
    }

    /** A scanner (acquisition domain) as streams knows it, with the model serving it (from retrain). */
    public record Scanner(String id, String status, String reason, long seriesCount, String firstSeen, String lastSeen,
                          String driftScore, String evidence, String fingerprint, String serving) {
        public boolean flagged() {
            return "DRIFT_CONFIRMED".equals(status) || "CANDIDATE".equals(status);
        }
    }

    /** An adaptation job. */
    public record Job(String id, String domainId, String method, String status, String phase, String progress,
                      String created, String decision) {
    }

    /** The models of a domain: which serves it, how many versions it has, the latest. */
    public record Model(String domainId, String servedBy, String serving, int versions, String latest, boolean canRollBack) {
    }

    static Section<Scanner> scanners(ServiceCalls.Answer domains, Map<String, String> servingByDomain) {
        if (!domains.ok()) return Section.failed(domains.problem());
        List<Scanner> rows = new ArrayList<>();
        for (JsonNode d : array(domains.body())) {
            String id = text(d, "id");
            rows.add(new Scanner(id, text(d, "status"), text(d, "reason"), d.path("seriesCount").asLong(),
                    text(d, "firstSeen"), text(d, "lastSeen"),
                    d.hasNonNull("driftScore") ? String.format(Locale.ROOT, "%.3f", d.get("driftScore").asDouble()) : "",
                    evidence(d.path("evidence")), fingerprint(d.path("fingerprint")),
                    servingByDomain.getOrDefault(id, "default model")));
        }
        return new Section<>(rows, null);
    }

    static Section<Job> jobs(ServiceCalls.Answer jobs) {
        if (!jobs.ok()) return Section.failed(jobs.problem());
        List<Job> rows = new ArrayList<>();
        for (JsonNode j : array(jobs.body())) {
            String status = text(j, "status");
            JsonNode p = j.path("progress");
            String progress = p.isMissingNode() || p.isNull() ? ""
                    : String.format(Locale.ROOT, "%.0f %% (%d/%d)", 100 * p.path("fraction").asDouble(), p.path("step").asLong(),
                    p.path("total").asLong());
            rows.add(new Job(text(j, "id"), text(j, "domainId"), text(j, "method"), status, text(j, "phase"), progress,
                    text(j, "createdAt"), text(j, "decision")));
        }
        rows.sort((a, b) -> b.created().compareTo(a.created()));
        return new Section<>(rows, null);
    }

    static Section<Model> models(ServiceCalls.Answer models) {
        if (!models.ok()) return Section.failed(models.problem());
        List<Model> rows = new ArrayList<>();
        for (JsonNode m : array(models.body())) {
            JsonNode versions = m.path("versions");
            String latest = "";
            for (JsonNode v : array(versions)) {
                latest = text(v, "version") + " (" + text(v, "status") + (v.hasNonNull("method") ? ", " + text(v, "method") : "") + ")";
            }
            String serving = m.path("serving").hasNonNull("version") ? m.path("serving").get("version").asText() : "default model";
            String servedBy = text(m, "servedBy");
            rows.add(new Model(text(m, "domainId"), servedBy, serving, versions.size(), latest,
                    m.path("serving").hasNonNull("version") && !"default".equals(servedBy)));
        }
        return new Section<>(rows, null);
    }

    /**
     * domain id -> the version serving it, for the domains with a model of their own (retrain's GET /models names the
     * default model's version as a domain's serving one when it has none: such a domain shows "default model", as one
     * without any entry does). Empty when /models could not be read.
     */
    static Map<String, String> servingByDomain(ServiceCalls.Answer models) {
        Map<String, String> out = new java.util.HashMap<>();
        if (!models.ok()) return out;
        for (JsonNode m : array(models.body())) {
            String domain = text(m, "domainId");
            if (m.path("serving").hasNonNull("version") && domain.equals(text(m, "servedBy"))) {
                out.put(domain, "model " + m.path("serving").get("version").asText());
            }
        }
        return out;
    }

    private static String evidence(JsonNode e) {
        if (e.isMissingNode() || e.isNull()) return "";
        return String.format(Locale.ROOT, "%s: p = %.4g (n = %d, threshold %.4g, compared to %s)", text(e, "test"),
                e.path("pValue").asDouble(), e.path("n").asInt(), e.path("threshold").asDouble(), text(e, "comparedTo"));
    }

    private static String fingerprint(JsonNode f) {
        StringBuilder s = new StringBuilder();
        for (Iterator<Map.Entry<String, JsonNode>> it = f.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!s.isEmpty()) s.append("; ");
            s.append(e.getKey()).append('=').append(e.getValue().asText());
        }
        return s.toString();
    }

    private static Iterable<JsonNode> array(JsonNode n) {
        return n != null && n.isArray() ? n : List.of();
    }

    private static String text(JsonNode n, String field) {
        return n.hasNonNull(field) ? n.get(field).asText() : "";
    }
}
