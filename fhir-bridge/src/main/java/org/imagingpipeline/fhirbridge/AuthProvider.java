package org.imagingpipeline.fhirbridge;

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
import java.util.Base64;
import org.imagingpipeline.events.EventJson;

/** The Authorization the EHR wants: none, a static bearer token, or OAuth2 client credentials (token cached). */
public interface AuthProvider {
    /** The bearer token to send, or null for none; {@code refresh} forces a new one where that is possible. */
    String token(boolean refresh) throws IOException, InterruptedException;

    /** Whether {@link #token}(true) can yield a different token (a 401 is then worth one more try). */
    default boolean refreshable() {
        return false;
    }

    static AuthProvider none() {
        return refresh -> null;
    }

    static AuthProvider bearer(String token) {
        return refresh -> token;
    }

    /**
     * OAuth2 client-credentials grant (RFC 6749 section 4.4): client id and secret by HTTP Basic, optional scope;
     * the token is reused until 30 s before it expires.
     */
    final class ClientCredentials implements AuthProvider {
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        private final URI tokenUrl;
        private final String clientId;
        private final String clientSecret;
        private final String scope;
        private String token;
        private Instant expires = Instant.EPOCH;

        public ClientCredentials(String tokenUrl, String clientId, String clientSecret, String scope) {
            this.tokenUrl = URI.create(tokenUrl);
            this.clientId = clientId;
            this.clientSecret = clientSecret;
            this.scope = scope;
        }

        @Override
        public synchronized String token(boolean refresh) throws IOException, InterruptedException {
            if (!refresh && token != null && Instant.now().isBefore(expires)) return token;
            String form = "grant_type=client_credentials"
                    + (scope == null || scope.isBlank() ? "" : "&scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8));
            String basic = Base64.getEncoder().encodeToString((URLEncoder.encode(clientId, StandardCharsets.UTF_8) + ":"
                    + URLEncoder.encode(clientSecret, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
            HttpRequest req = HttpRequest.newBuilder(tokenUrl).timeout(Duration.ofSeconds(15))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("Authorization", "Basic " + basic)
                    .POST(HttpRequest.BodyPublishers.ofString(form)).build();
            HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() != 200) {
                throw new IOException("token endpoint answered HTTP " + resp.statusCode());
            }
            JsonNode n = EventJson.mapper().readTree(resp.body());
            token = n.path("access_token").asText(null);
            if (token == null) throw new IOException("token endpoint answered without access_token");
            long ttl = n.path("expires_in").asLong(300);
            expires = Instant.now().plusSeconds(Math.max(0, ttl - 30));
            return token;
        }

        @Override
        public boolean refreshable() {
            return true;
        }
    }
}
