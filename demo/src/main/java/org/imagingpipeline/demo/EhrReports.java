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

    /** The stored report: when the EHR stored it (meta.lastUpdated), its status and the model version named in it. */
    record Report(String id, Instant lastUpdated, String status, String conclusion) {
    }

    Optional<Report> current(String seriesUid) throws IOException, InterruptedException {
        String q = URLEncoder.encode(CURRENT_REPORT_SYSTEM + "|" + seriesUid, StandardCharsets.UTF_8);
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/DiagnosticReport?identifier=" + q))
                .header("Accept", "application/fhir+json").timeout(Duration.ofSeconds(20)).GET().build();
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IOException("EHR search answered " + r.statusCode() + ": " + r.body());
        JsonNode bundle = EventJson.mapper().readTree(r.body());
        JsonNode entries = bundle.path("entry");
        if (!entries.isArray() || entries.isEmpty()) return Optional.empty();
        JsonNode dr = entries.get(0).path("resource");
        String updated = dr.path("meta").path("lastUpdated").asText(null);
        return Optional.of(new Report(dr.path("id").asText(), updated == null ? null : java.time.OffsetDateTime.parse(updated).toInstant(),
                dr.path("status").asText(null), dr.path("conclusion").asText(null)));
    }
}
