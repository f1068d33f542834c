package org.imagingpipeline.deploy.demo;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/** The self-contained HTML page of the demo: key numbers, four charts, the domain table and the model lineage. */
final class DemoPage {
    private DemoPage() {
    }

    static String render(JsonNode s, List<String> folders, String diceChart, String driftChart, String latencyChart, String throughputChart,
                         Map<String, Double> phases) {
        StringBuilder h = new StringBuilder();
        h.append("<!doctype html><html><head><meta charset=utf-8><title>Imaging pipeline demo</title><style>")
                .append("body{font-family:sans-serif;margin:2em;max-width:80em;color:#222}table{border-collapse:collapse;margin:1em 0}")
                .append("td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top;font-size:90%}")
                .append(".warn{background:#fff3cd;padding:.6em;border:1px solid #e0c060}.big{font-size:140%;font-weight:bold}")
                .append(".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:1em}img{max-width:100%}")
                .append("code{background:#f4f4f4}details small{word-break:break-all}</style></head><body>");
        h.append("<h1>Imaging pipeline demo</h1>");
        if (s.path("synthetic_data").asBoolean()) {
            h.append("<p class=warn><b>SYNTHETIC data.</b> No ../shared data on this machine: the demo generated brain-like phantoms "
                    + "with lesions, one acquisition look per synthetic site. Nothing here is patient data.</p>");
        }
        if (s.path("simulated_series").asLong() > 0) {
            h.append("<p class=warn><b>SIMULATED scanner.</b> ").append(s.path("simulated_series").asLong())
                    .append(s.path("synthetic_data").asBoolean() ? " series were phantoms" : " series were real anatomy")
                    .append(" pushed through a simulated acquisition profile (site folders ending in the profile name, "
                            + "e.g. <code>…-HELDOUT-NEWSCANNER</code>); their headers say SIMULATED.</p>");
        }
        for (JsonNode m : s.path("models")) {
            int labelled = m.path("evidence").path("labelled_target_series").asInt(0);
            if (labelled > 0) {
                h.append("<p class=warn><b>Expert-corrected masks (SIMULATED radiologist).</b> For ").append(labelled)
                        .append(" series of domain <code>").append(esc(m.path("domain").asText()))
                        .append("</code> the demo returned the dataset's expert masks to the pipeline, as a radiologist's corrections; "
                                + "the promotion gate of <code>").append(esc(m.path("version").asText()))
                        .append("</code> decided on their Dice. Those series are also in the demo's own Dice for that site.</p>");
            }
        }
        h.append("<p>Data: ").append(esc(s.path("data").asText())).append("</p>");
        h.append("<p class=big>").append(s.path("studies_sent").asLong()).append(" studies sent, ")
                .append(s.path("reports_in_ehr").asLong()).append(" with reports in the EHR, lost: ").append(s.path("lost").asLong())
                .append(", FHIR validation errors: ").append(esc(s.path("fhir_validation_errors").asText("n/a"))).append("</p>");
        JsonNode lat = s.path("latency_ms");
        h.append("<p>Latency from series complete to report stored: p50 ").append(ms(lat.path("p50"))).append(", p95 ")
                .append(ms(lat.path("p95"))).append(", max ").append(ms(lat.path("max"))).append(". Results on the topic: ")
                .append(s.path("results_on_topic").asLong()).append(" (").append(s.path("error_results").asLong()).append(" with status ERROR).</p>");
        h.append("<div class=grid>");
        for (String[] c : new String[][] {{diceChart, "Dice per site, measured by the demo with the expert masks it holds (never by the pipeline). "
                + "Adapted bars appear for sites whose domain got a promoted model."},
                {driftChart, "Drift score at each decision of the drift detector; vertical lines mark DRIFT_CONFIRMED."},
                {latencyChart, "End-to-end latency per series."},
                {throughputChart, "Cumulative series complete and reports stored; vertical lines mark the demo's phases: "
                        + esc(String.join(" | ", phases.keySet()))}}) {
            h.append("<figure><img alt='chart' src='").append(c[0]).append("'><figcaption>").append(c[1]).append("</figcaption></figure>");
        }
        h.append("</div><h2>Domains</h2><table><tr><th>id</th><th>status</th><th>site folders</th><th>scanner</th><th>series</th>"
                + "<th>decided after series</th><th>evidence</th></tr>");
        for (JsonNode d : s.path("domains")) {
            JsonNode f = d.path("fingerprint");
            h.append("<tr><td><code>").append(esc(d.path("id").asText())).append("</code></td><td><b>").append(esc(d.path("status").asText()))
                    .append("</b></td><td>").append(esc(join(d.path("site_folders")))).append("</td><td>")
                    .append(esc(String.join(" / ", f.path("manufacturer").asText(""), f.path("model").asText(""), f.path("institution").asText(""),
                            f.path("station").asText(""), f.path("fieldStrength").asText(""))))
                    .append("</td><td>").append(d.path("series").asLong()).append("</td><td>").append(esc(d.path("flagged_after_series").asText("-")))
                    .append("</td><td>").append(esc(evidence(d.path("evidence")))).append("</td></tr>");
        }
        h.append("</table><h2>Models (lineage)</h2><table><tr><th>version</th><th>domain</th><th>method</th><th>status</th>"
                + "<th>parent</th><th>series segmented</th><th>Dice before</th><th>Dice after</th><th>gate evidence</th></tr>");
        for (JsonNode m : s.path("models")) {
            h.append("<tr><td><code>").append(esc(m.path("version").asText())).append("</code><br><small>")
                    .append(esc(shortSha(m.path("sha256").asText("")))).append("</small></td><td>").append(esc(m.path("domain").asText()))
                    .append("</td><td>").append(esc(m.path("method").asText("-"))).append("</td><td><b>").append(esc(m.path("status").asText()))
                    .append("</b></td><td><small>").append(esc(shortSha(m.path("parent_sha256").asText("")))).append("</small></td><td>")
                    .append(m.path("series_segmented").asLong()).append("</td><td>")
                    .append(esc(m.path("dice_before").asText("-"))).append("</td><td>").append(esc(m.path("dice_after").asText("-")))
                    .append("</td><td>").append(esc(m.path("evidence").path("decision").asText(""))).append("<details><summary>numbers</summary><small>")
                    .append(esc(m.path("evidence").toString())).append("</small></details></td></tr>");
        }
        h.append("</table><h2>Series by site folder and model version</h2><table><tr><th>site -> model version</th><th>series</th></tr>");
        s.path("series_by_site_and_model").fields().forEachRemaining(e ->
                h.append("<tr><td>").append(esc(e.getKey())).append("</td><td>").append(e.getValue().asLong()).append("</td></tr>"));
        h.append("</table><p><small>Sites: ").append(esc(String.join(", ", folders)))
                .append(". Numbers from summary.json beside this page.</small></p></body></html>\n");
        return h.toString();
    }

    private static String evidence(JsonNode e) {
        if (e == null || e.isMissingNode() || e.isNull()) return "-";
        return e.path("test").asText("") + " statistic " + e.path("statistic").asText("") + ", p " + e.path("pValue").asText("")
                + ", n " + e.path("n").asText("") + (e.has("comparedTo") ? ", vs " + e.path("comparedTo").asText() : "");
    }

    private static String join(JsonNode arr) {
        StringBuilder b = new StringBuilder();
        arr.forEach(x -> b.append(b.length() == 0 ? "" : ", ").append(x.asText()));
        return b.toString();
    }

    private static String ms(JsonNode v) {
        return v.isNumber() ? Math.round(v.asDouble()) + " ms" : "n/a";
    }

    private static String shortSha(String sha) {
        return sha.length() > 12 ? sha.substring(0, 12) + "…" : sha;
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }
}
