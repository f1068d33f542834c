package org.imagingpipeline.demo;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.qute.Engine;
import io.quarkus.qute.HtmlEscaper;
import io.quarkus.qute.Template;
import io.quarkus.qute.Variant;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The self-contained HTML page of the demo (key numbers, four charts, the domain table, the model lineage), rendered
 * from the Qute template {@code report.html} beside this class; every value is HTML-escaped by the engine.
 */
final class DemoPage {
    private static final Template TEMPLATE = load();

    private DemoPage() {
    }

    private static Template load() {
        Engine engine = Engine.builder().addDefaults().addResultMapper(new HtmlEscaper(List.of(Variant.TEXT_HTML))).build();
        try (InputStream in = DemoPage.class.getResourceAsStream("report.html")) {
            if (in == null) throw new IllegalStateException("report.html missing beside " + DemoPage.class.getName());
            return engine.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), Variant.forContentType(Variant.TEXT_HTML));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A chart: its PNG as a data URI and a caption. */
    record Chart(String src, String caption) {
    }

    static String render(JsonNode s, List<String> folders, List<Chart> charts) {
        Map<String, Object> v = new HashMap<>();
        v.put("synthetic", s.path("synthetic_data").asBoolean());
        v.put("simulatedSeries", s.path("simulated_series").asLong());
        List<Map<String, Object>> expert = new ArrayList<>();
        for (JsonNode m : s.path("models")) {
            int labelled = m.path("evidence").path("labelled_target_series").asInt(0);
            if (labelled > 0) {
                expert.add(Map.of("labelled", labelled, "domain", m.path("domain").asText(), "version", m.path("version").asText()));
            }
        }
        v.put("expertNotes", expert);
        v.put("data", s.path("data").asText());
        v.put("studiesSent", s.path("studies_sent").asLong());
        v.put("reportsInEhr", s.path("reports_in_ehr").asLong());
        v.put("lost", s.path("lost").asLong());
        v.put("validationErrors", s.path("fhir_validation_errors").asText("n/a"));
        JsonNode lat = s.path("latency_ms");
        v.put("p50", ms(lat.path("p50")));
        v.put("p95", ms(lat.path("p95")));
        v.put("max", ms(lat.path("max")));
        v.put("resultsOnTopic", s.path("results_on_topic").asLong());
        v.put("errorResults", s.path("error_results").asLong());
        v.put("charts", charts.stream().map(c -> Map.of("src", c.src(), "caption", c.caption())).toList());
        List<Map<String, Object>> domains = new ArrayList<>();
        for (JsonNode d : s.path("domains")) {
            JsonNode f = d.path("fingerprint");
            Map<String, Object> row = new HashMap<>();
            row.put("id", d.path("id").asText());
            row.put("status", d.path("status").asText());
            row.put("folders", join(d.path("site_folders")));
            row.put("scanner", String.join(" / ", f.path("manufacturer").asText(""), f.path("model").asText(""),
                    f.path("institution").asText(""), f.path("station").asText(""), f.path("fieldStrength").asText("")));
            row.put("series", d.path("series").asLong());
            row.put("decidedAfter", d.path("flagged_after_series").asText("-"));
            row.put("evidence", evidence(d.path("evidence")));
            domains.add(row);
        }
        v.put("domains", domains);
        List<Map<String, Object>> models = new ArrayList<>();
        for (JsonNode m : s.path("models")) {
            Map<String, Object> row = new HashMap<>();
            row.put("version", m.path("version").asText());
            row.put("sha", shortSha(m.path("sha256").asText("")));
            row.put("domain", m.path("domain").asText());
            row.put("method", m.path("method").asText("-"));
            row.put("status", m.path("status").asText());
            row.put("parent", shortSha(m.path("parent_sha256").asText("")));
            row.put("seriesSegmented", m.path("series_segmented").asLong());
            row.put("diceBefore", m.path("dice_before").asText("-"));
            row.put("diceAfter", m.path("dice_after").asText("-"));
            row.put("decision", m.path("evidence").path("decision").asText(""));
            row.put("evidence", m.path("evidence").toString());
            models.add(row);
        }
        v.put("models", models);
        List<Map<String, Object>> bySite = new ArrayList<>();
        s.path("series_by_site_and_model").fields().forEachRemaining(e -> {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("key", e.getKey());
            row.put("count", e.getValue().asLong());
            bySite.add(row);
        });
        v.put("seriesBySiteAndModel", bySite);
        v.put("sites", String.join(", ", folders));
        return TEMPLATE.data(v).render();
    }

    private static String evidence(JsonNode e) {
        if (e == null || e.isMissingNode() || e.isNull()) return "-";
        return e.path("test").asText("") + " statistic " + e.path("statistic").asText("") + ", p " + e.path("pValue").asText("")
                + ", n " + e.path("n").asText("") + (e.has("comparedTo") ? ", vs " + e.path("comparedTo").asText() : "");
    }

    private static String join(JsonNode arr) {
        List<String> xs = new ArrayList<>();
        arr.forEach(x -> xs.add(x.asText()));
        return String.join(", ", xs);
    }

    private static String ms(JsonNode v) {
        return v.isNumber() ? Math.round(v.asDouble()) + " ms" : "n/a";
    }

    private static String shortSha(String sha) {
        return sha.length() > 12 ? sha.substring(0, 12) + "…" : sha;
    }
}
