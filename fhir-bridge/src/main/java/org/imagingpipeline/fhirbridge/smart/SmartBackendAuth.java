package org.imagingpipeline.fhirbridge.smart;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.fhirbridge.AuthProvider;
import org.jboss.logging.Logger;
import org.jose4j.jws.JsonWebSignature;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.NumericDate;
import org.jose4j.lang.JoseException;

/**
 * SMART App Launch v2 "Backend Services" (HL7 FHIR SMART, client-confidential-asymmetric): the OAuth2
 * client-credentials grant authenticated with {@code private_key_jwt} (RFC 7523). For each token request it signs a
 * fresh client assertion (RS384, {@code kid} the key's thumbprint; {@code iss} = {@code sub} = the client id,
 * {@code aud} = the token endpoint, {@code exp} at most 5 minutes ahead, a random {@code jti}) and POSTs
 * {@code grant_type=client_credentials}, {@code scope}, {@code client_assertion_type} and {@code client_assertion}.
 * The token endpoint is configured, or read once from {@code FHIR_BASE/.well-known/smart-configuration}
 * ({@code token_endpoint}). The access token is cached and fetched anew before it expires (when less than a fifth of
 * its life, at most {@link #REFRESH_MARGIN_MAX}, is left) and, through {@link #refreshable()}, once after a 401.
 * Failures of the token endpoint are {@link IOException}s: the delivery retries them like an EHR outage.
 * The token and the assertion are never logged.
 */
public final class SmartBackendAuth implements AuthProvider {
    private static final Logger LOG = Logger.getLogger(SmartBackendAuth.class);
    public static final String ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    /** Refresh at most this long before expiry (and at least a fifth of the token's life before). */
    public static final Duration REFRESH_MARGIN_MAX = Duration.ofSeconds(30);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private final URI fhirBase;
    private final URI configuredTokenUrl;
    private final String clientId;
    private final SmartKeys keys;
    private final String scope;
    private final Duration assertionLifetime;
    private final Clock clock;
    private URI tokenUrl;
    private String token;
    private Instant refreshAt = Instant.EPOCH;
    private int fetched;

    /**
     * @param fhirBase          the EHR's FHIR base URL (for discovery when {@code tokenUrl} is null)
     * @param tokenUrl          the token endpoint, or null to discover it
     * @param clientId          the client id the EHR registered with the public JWK Set
     * @param keys              the client's key pair
     * @param scope             the requested scopes (space separated), e.g. {@code system/DiagnosticReport.c ...}
     * @param assertionLifetime the client assertion's lifetime (SMART: at most 5 minutes)
     */
    public SmartBackendAuth(String fhirBase, String tokenUrl, String clientId, SmartKeys keys, String scope,
                            Duration assertionLifetime, Clock clock) {
        this.fhirBase = URI.create(fhirBase.endsWith("/") ? fhirBase : fhirBase + "/");
        this.configuredTokenUrl = tokenUrl == null || tokenUrl.isBlank() ? null : URI.create(tokenUrl);
        this.clientId = clientId;
        this.keys = keys;
        this.scope = scope;
        if (assertionLifetime.compareTo(Duration.ofMinutes(5)) > 0 || assertionLifetime.isNegative()
                || assertionLifetime.isZero()) {
            throw new IllegalArgumentException("the client assertion's lifetime must be within (0, 5 minutes]");
        }
        this.assertionLifetime = assertionLifetime;
        this.clock = clock;
    }

    @Override
    public synchronized String token(boolean refresh) throws IOException, InterruptedException {
        Instant now = clock.instant();
        if (!refresh && token != null && now.isBefore(refreshAt)) return token;
        URI url = tokenUrl();
        String form = "grant_type=client_credentials"
                + (scope == null || scope.isBlank() ? "" : "&scope=" + enc(scope))
                + "&client_assertion_type=" + enc(ASSERTION_TYPE)
                + "&client_assertion=" + enc(assertion(url.toString(), now));
        HttpRequest req = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(15))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build();
        HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (resp.statusCode() != 200) {
            throw new IOException("SMART token endpoint " + url + " answered HTTP " + resp.statusCode() + errorOf(resp.body()));
        }
        JsonNode n;
        try {
            n = EventJson.mapper().readTree(resp.body());
        } catch (IOException e) {
            throw new IOException("SMART token endpoint " + url + " answered a body that is not JSON");
        }
        String t = n.path("access_token").asText(null);
        if (t == null || t.isBlank()) throw new IOException("SMART token endpoint " + url + " answered without access_token");
        String type = n.path("token_type").asText("bearer");
        if (!"bearer".equalsIgnoreCase(type)) throw new IOException("SMART token endpoint answered token_type " + type);
        long ttl = Math.max(1, n.path("expires_in").asLong(300));
        Duration margin = Duration.ofMillis(Math.min(REFRESH_MARGIN_MAX.toMillis(), ttl * 1000 / 5));
        token = t;
        refreshAt = now.plusSeconds(ttl).minus(margin);
        fetched++;
        LOG.debugf("SMART access token %d for client %s: %d s, scope %s", fetched, clientId, ttl,
                n.path("scope").asText(""));
        return token;
    }

    @Override
    public boolean refreshable() {
        return true;
    }

    /** How many access tokens were fetched so far (metrics, tests). */
    public synchronized int tokensFetched() {
        return fetched;
    }

    /** A signed client assertion for the token endpoint {@code audience}, issued at {@code now}. */
    public String assertion(String audience, Instant now) {
        JwtClaims c = new JwtClaims();
        c.setIssuer(clientId);
        c.setSubject(clientId);
        c.setAudience(audience);
        c.setIssuedAt(NumericDate.fromSeconds(now.getEpochSecond()));
        c.setExpirationTime(NumericDate.fromSeconds(now.plus(assertionLifetime).getEpochSecond()));
        c.setGeneratedJwtId(24);
        JsonWebSignature jws = new JsonWebSignature();
        jws.setPayload(c.toJson());
        jws.setKey(keys.privateKey());
        jws.setKeyIdHeaderValue(keys.keyId());
        jws.setHeader("typ", "JWT");
        jws.setAlgorithmHeaderValue(SmartKeys.ALGORITHM);
        try {
            return jws.getCompactSerialization();
        } catch (JoseException e) {
            throw new IllegalStateException("cannot sign the client assertion", e);
        }
    }

    /** The token endpoint: configured, or discovered once from the FHIR server's SMART configuration. */
    public synchronized URI tokenUrl() throws IOException, InterruptedException {
        if (configuredTokenUrl != null) return configuredTokenUrl;
        if (tokenUrl != null) return tokenUrl;
        URI wellKnown = fhirBase.resolve(".well-known/smart-configuration");
        HttpRequest req = HttpRequest.newBuilder(wellKnown).timeout(Duration.ofSeconds(15))
                .header("Accept", "application/json").GET().build();
        HttpResponse<String> resp = http.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (resp.statusCode() != 200) throw new IOException(wellKnown + " answered HTTP " + resp.statusCode());
        JsonNode n;
        try {
            n = EventJson.mapper().readTree(resp.body());
        } catch (IOException e) {
            throw new IOException(wellKnown + " answered a body that is not JSON");
        }
        String t = n.path("token_endpoint").asText(null);
        if (t == null || t.isBlank()) throw new IOException(wellKnown + " names no token_endpoint");
        JsonNode methods = n.path("token_endpoint_auth_methods_supported");
        if (methods.isArray() && methods.size() > 0 && !methods.toString().contains("\"private_key_jwt\"")) {
            LOG.warnf("%s does not list private_key_jwt among token_endpoint_auth_methods_supported", wellKnown);
        }
        tokenUrl = URI.create(t);
        LOG.infof("SMART token endpoint %s (from %s)", tokenUrl, wellKnown);
        return tokenUrl;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** ": error (description)" of an OAuth2 error body, at most 200 characters; nothing when there is none. */
    private static String errorOf(String body) {
        try {
            JsonNode n = EventJson.mapper().readTree(body == null ? "" : body);
            String e = n.path("error").asText("");
            if (e.isEmpty()) return "";
            String d = n.path("error_description").asText("");
            String s = ": " + e + (d.isEmpty() ? "" : " (" + d + ")");
            return s.length() > 200 ? s.substring(0, 200) : s;
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
