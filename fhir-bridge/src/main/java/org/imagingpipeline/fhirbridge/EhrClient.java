package org.imagingpipeline.fhirbridge;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Resource;

/**
 * The EHR's FHIR REST API as the bridge uses it: POST a transaction Bundle to the base URL, search resources
 * (DiagnosticReport, ImagingStudy, Patient) by identifier, and read one by id (the Observation of a superseded report). Plain {@link HttpClient}, so every status code and I/O failure reaches the
 * retry policy unchanged; the HAPI parser reads and writes the bodies.
 */
public final class EhrClient {
    private static final String FHIR_JSON = "application/fhir+json";
    private final FhirContext ctx;
    private final URI base;
    private final HttpClient http;
    private final Duration requestTimeout;
    private final AuthProvider auth;

    public EhrClient(FhirContext ctx, String baseUrl, Duration connectTimeout, Duration requestTimeout,
                     AuthProvider auth) {
        this.ctx = ctx;
        this.base = URI.create(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/");
        this.http = HttpClient.newBuilder().connectTimeout(connectTimeout).version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.requestTimeout = requestTimeout;
        this.auth = auth;
    }

    /** An HTTP answer: status and body text. */
    public record Response(int status, String body) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /** POSTs the transaction; I/O failures (refused, timeout) are thrown. */
    public Response transaction(Bundle bundle) throws IOException, InterruptedException {
        String body = ctx.newJsonParser().encodeResourceToString(bundle);
        HttpRequest.Builder rb = HttpRequest.newBuilder(base).timeout(requestTimeout)
                .header("Content-Type", FHIR_JSON + "; charset=UTF-8").header("Accept", FHIR_JSON)
                .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        return send(rb);
    }

    /** Current DiagnosticReports with the identifier; a non-2xx answer is returned as {@link SearchFailed}. */
    public List<DiagnosticReport> reportsByIdentifier(String system, String value)
            throws IOException, InterruptedException, SearchFailed {
        return byIdentifier(DiagnosticReport.class, system, value);
    }

    /**
     * Current resources of {@code type} with the identifier (a search by {@code identifier=system|value}, checked on
     * the answer too); a non-2xx answer is returned as {@link SearchFailed}. Asked with {@code Cache-Control: no-cache}:
     * a HAPI FHIR JPA server otherwise answers a search repeated within a minute (its default) from the results it
     * cached the first time, so a report or study written since would not be seen (docs/fhir-mapping.md, "Tested
     * against a real FHIR server").
     */
    public <T extends Resource> List<T> byIdentifier(Class<T> type, String system, String value)
            throws IOException, InterruptedException, SearchFailed {
        String q = type.getSimpleName() + "?identifier=" + URLEncoder.encode(system + "|" + value, StandardCharsets.UTF_8);
        HttpRequest.Builder rb = HttpRequest.newBuilder(base.resolve(q)).timeout(requestTimeout)
                .header("Accept", FHIR_JSON).header("Cache-Control", "no-cache").GET();
        Response r = send(rb);
        if (!r.ok()) throw new SearchFailed(r);
        Bundle b = ctx.newJsonParser().parseResource(Bundle.class, r.body());
        List<T> out = new ArrayList<>();
        for (Bundle.BundleEntryComponent e : b.getEntry()) {
            Resource res = e.getResource();
            if (type.isInstance(res) && hasIdentifier(res, system, value)) out.add(type.cast(res));
        }
        return out;
    }

    /**
     * The resource a reference names ({@code Type/id}, or an absolute URL under this EHR's base), read by id; empty when
     * the EHR answers 404 or 410, or when the reference points elsewhere. Other non-2xx answers are {@link SearchFailed}.
     */
    public <T extends Resource> Optional<T> read(Class<T> type, String reference)
            throws IOException, InterruptedException, SearchFailed {
        String relative = reference.startsWith(base.toString()) ? reference.substring(base.toString().length()) : reference;
        String[] parts = relative.split("/");
        if (parts.length < 2 || !type.getSimpleName().equals(parts[0]) || !parts[1].matches("[A-Za-z0-9\\-.]{1,64}")) {
            return Optional.empty();
        }
        HttpRequest.Builder rb = HttpRequest.newBuilder(base.resolve(parts[0] + "/" + parts[1])).timeout(requestTimeout)
                .header("Accept", FHIR_JSON).GET();
        Response r = send(rb);
        if (r.status() == 404 || r.status() == 410) return Optional.empty();
        if (!r.ok()) throw new SearchFailed(r);
        return Optional.of(ctx.newJsonParser().parseResource(type, r.body()));
    }

    private boolean hasIdentifier(Resource res, String system, String value) {
        for (Identifier i : ctx.newTerser().getValues(res, "identifier", Identifier.class)) {
            if (system.equals(i.getSystem()) && value.equals(i.getValue())) return true;
        }
        return false;
    }

    private Response send(HttpRequest.Builder rb) throws IOException, InterruptedException {
        String token = auth.token(false);
        if (token != null) rb.header("Authorization", "Bearer " + token);
        HttpResponse<String> resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (resp.statusCode() == 401 && auth.refreshable()) {
            // An expired or revoked OAuth2 token: fetch a new one and try once more.
            rb.setHeader("Authorization", "Bearer " + auth.token(true));
            resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        }
        return new Response(resp.statusCode(), resp.body());
    }

    /** A search answered with a non-2xx status. */
    public static final class SearchFailed extends Exception {
        private final Response response;

        public SearchFailed(Response response) {
            super("search answered HTTP " + response.status());
            this.response = response;
        }

        public Response response() {
            return response;
        }
    }
}
