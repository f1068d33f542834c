package org.imagingpipeline.demo;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.imagingpipeline.events.EventJson;

/**
 * Asks the EHR (any FHIR R4 server) for the current DiagnosticReport of a series, by the identifier the bridge gives
 * it (see docs/fhir-mapping.md): {@code urn:imaging-pipeline:id:series-current-report|SERIES}.
 */
final class EhrReports {
    static final String CURRENT_REPORT_SYSTEM = "urn:imaging-pipeline:id:series-current-report";
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    EhrReports(String base) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    }

    /** The bridge's report key identifier: {@code SERIES:MODEL_VERSION}. */
    static final String REPORT_KEY_SYSTEM = "urn:imaging-pipeline:id:segmentation-report";

    /**
     * The stored report: when the EHR stored this version of it (meta.lastUpdated), its status, conclusion and the model
     * version its report key names (null when it has none).
     */
    record Report(String id, Instant lastUpdated, String status, String conclusion, String modelVersion) {
    }

    /** The series' current report. */
    Optional<Report> current(String seriesUid) throws IOException, InterruptedException {
        return first(get("DiagnosticReport?identifier=" + URLEncoder.encode(CURRENT_REPORT_SYSTEM + "|" + seriesUid,
                StandardCharsets.UTF_8)), seriesUid);
    }

    /**
     * The series' report by model {@code version} as the EHR first stored it (version 1 of the resource, by vread): its
     * lastUpdated is when that report arrived, even after a later model's report superseded it.
     */
    Optional<Report> firstStored(String seriesUid, String version) throws IOException, InterruptedException {
        Optional<Report> now = first(get("DiagnosticReport?identifier=" + URLEncoder.encode(REPORT_KEY_SYSTEM + "|" + seriesUid
                + ":" + version, StandardCharsets.UTF_8)), seriesUid);
        if (now.isEmpty()) return now;
        JsonNode dr = get("DiagnosticReport/" + URLEncoder.encode(now.get().id(), StandardCharsets.UTF_8) + "/_history/1");
        return Optional.of(report(dr, seriesUid));
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        // no-cache: a HAPI FHIR JPA server answers a search repeated within a minute from the results it cached the
        // first time (docs/fhir-mapping.md, "Tested against a real FHIR server"); the demo polls for new reports
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/" + path))
                .header("Accept", "application/fhir+json").header("Cache-Control", "no-cache")
                .timeout(Duration.ofSeconds(20)).GET().build();
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IOException("EHR answered " + r.statusCode() + " to GET " + path + ": " + r.body());
        return EventJson.mapper().readTree(r.body());
    }

    private static Optional<Report> first(JsonNode bundle, String seriesUid) {
        JsonNode entries = bundle.path("entry");
        if (!entries.isArray() || entries.isEmpty()) return Optional.empty();
        return Optional.of(report(entries.get(0).path("resource"), seriesUid));
    }

    private static Report report(JsonNode dr, String seriesUid) {
        String updated = dr.path("meta").path("lastUpdated").asText(null);
        String version = null;
        for (JsonNode id : dr.path("identifier")) {
            String value = id.path("value").asText("");
            if (REPORT_KEY_SYSTEM.equals(id.path("system").asText()) && value.startsWith(seriesUid + ":")) {
                version = value.substring(seriesUid.length() + 1);
            }
        }
        return new Report(dr.path("id").asText(), updated == null ? null : java.time.OffsetDateTime.parse(updated).toInstant(),
                dr.path("status").asText(null), dr.path("conclusion").asText(null), version);
    }
}
