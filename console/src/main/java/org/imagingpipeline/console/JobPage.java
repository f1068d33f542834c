package org.imagingpipeline.console;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** An adaptation job's page: its facts, the gate's evidence (name, value) and the last lines its process wrote. */
public record JobPage(String id, String domainId, String status, List<Field> facts, List<Field> evidence, List<String> logTail,
                      String problem) {
    /** One row: a name and its value as text. */
    public record Field(String name, String value) {
    }

    static JobPage failed(String id, String problem) {
        return new JobPage(id, "", "", List.of(), List.of(), List.of(), problem);
    }

    static JobPage of(String id, ServiceCalls.Answer a) {
        if (!a.ok()) return failed(id, a.status() == 404 ? "retrain has no job " + id + "." : a.problem());
        JsonNode j = a.body();
        List<Field> facts = new ArrayList<>();
        for (String f : List.of("method", "trigger", "status", "phase", "createdAt", "startedAt", "finishedAt", "slices", "attempts",
                "decision", "error", "recovery")) {
            if (j.hasNonNull(f)) facts.add(new Field(f, j.get(f).asText()));
        }
        if (j.path("progress").hasNonNull("line")) facts.add(new Field("progress", j.path("progress").get("line").asText()));
        facts.add(new Field("series", Integer.toString(j.path("seriesUids").size())));
        facts.add(new Field("series with expert-corrected masks", Integer.toString(j.path("expertLabelledSeries").size())));
        if (j.path("skipped").size() > 0) facts.add(new Field("series skipped", Integer.toString(j.path("skipped").size())));
        JsonNode m = j.path("model");
        if (m.hasNonNull("version")) {
            facts.add(new Field("candidate model", m.get("version").asText() + (m.hasNonNull("parentVersion")
                    ? " (parent " + m.get("parentVersion").asText() + ")" : "")));
        }
        if (j.path("rejectedVersions").size() > 0) facts.add(new Field("candidates not chosen", text(j.path("rejectedVersions"))));
        for (Iterator<Map.Entry<String, JsonNode>> it = j.path("timings").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> t = it.next();
            facts.add(new Field("seconds " + t.getKey(), String.format(java.util.Locale.ROOT, "%.1f", t.getValue().asDouble())));
        }
        List<Field> evidence = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = j.path("evidence").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            evidence.add(new Field(e.getKey(), text(e.getValue())));
        }
        List<String> tail = new ArrayList<>();
        j.path("stderrTail").forEach(l -> tail.add(l.asText()));
        return new JobPage(id, j.path("domainId").asText(""), j.path("status").asText(""), facts, evidence, tail, null);
    }

    private static String text(JsonNode v) {
        String s = v.isValueNode() ? v.asText() : v.toString();
        return s.length() > 2000 ? s.substring(0, 2000) + " ..." : s;
    }
}
