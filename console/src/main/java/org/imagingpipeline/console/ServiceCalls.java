package org.imagingpipeline.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * Calls to the services' APIs with the signed-in person's own token: the service decides, by that token's roles, what
 * the person may read or do. An answer is either the JSON body or a sentence a person can read (never a stack trace).
 */
@ApplicationScoped
public class ServiceCalls {
    /** Most bytes of one answer the console reads (a larger answer is refused, not buffered). */
    static final int MAX_ANSWER_BYTES = 8 * 1024 * 1024;

    /** A service's answer: its HTTP status and JSON body, or why there is none ({@code problem}). */
    public record Answer(int status, JsonNode body, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    @Inject
    ConsoleConfig config;
    @Inject
    ObjectMapper json;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(3)).build();

    public Answer get(String service, String base, String path, String token) {
        return send(service, HttpRequest.newBuilder(URI.create(base + path)).GET(), token);
    }

    public Answer post(String service, String base, String path, String token, Object body) {
        try {
            return send(service, HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body))), token);
        } catch (IOException e) {
            return new Answer(0, null, "cannot write the request: " + e.getMessage());
        }
    }

    private Answer send(String service, HttpRequest.Builder b, String token) {
        b.timeout(config.callTimeout()).header("Accept", "application/json");
        if (token != null) b.header("Authorization", "Bearer " + token);
        HttpResponse<java.io.InputStream> r;
        byte[] bytes;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (java.io.InputStream in = r.body()) {
                bytes = in.readNBytes(MAX_ANSWER_BYTES + 1);
            }
        } catch (IOException e) {
            return new Answer(0, null, service + " is unavailable (" + e.getClass().getSimpleName() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(0, null, service + ": interrupted");
        }
        if (bytes.length > MAX_ANSWER_BYTES) return new Answer(r.statusCode(), null, service + " answered too much");
        JsonNode body = null;
        try {
            if (bytes.length > 0) body = json.readTree(bytes);
        } catch (IOException e) {
            body = null;
        }
        int s = r.statusCode();
        if (s >= 200 && s < 300) return new Answer(s, body, null);
        String why = body != null && body.hasNonNull("error") ? body.get("error").asText() : "HTTP " + s;
        return new Answer(s, body, switch (s) {
            case 401 -> "your session is no longer accepted by " + service + " (sign in again)";
            case 403 -> service + " refused: your roles do not allow this";
            default -> service + ": " + why;
        });
    }
}
